"""The project's flask commands."""

from __future__ import annotations

from tests.base import CommandTestCase


class DbInitCommandTest(CommandTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.db.client.drop_database(self.db.name)

    def test_db_init_creates_then_reports_nothing_to_change(self) -> None:
        first = self.runner.invoke(args=["db-init"])
        self.assertEqual(first.exit_code, 0, first.output)
        self.assertIn("created collection logs", first.output)
        self.assertIn("seeded master_config author", first.output)
        self.assertIn("change(s) applied", first.output)

        second = self.runner.invoke(args=["db-init"])
        self.assertEqual(second.exit_code, 0, second.output)
        self.assertIn("nothing to change", second.output)
        self.assertNotIn("created", second.output)

    def test_db_init_keeps_existing_seed_values(self) -> None:
        self.runner.invoke(args=["db-init"])
        self.db.master_config.update_one({"_id": "author"}, {"$set": {"value": "Changed"}})
        self.runner.invoke(args=["db-init"])
        self.assertEqual(self.db.master_config.find_one({"_id": "author"})["value"], "Changed")


class CreateAdminCommandTest(CommandTestCase):
    def test_create_admin_creates_account_after_prompting_for_password(self) -> None:
        result = self.runner.invoke(
            args=["create-admin", "Root@Example.com", "--name", "Root"], input="admin password\nadmin password\n"
        )
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn("created admin root@example.com", result.output)
        stored = self.db.users.find_one({"email": "root@example.com"})
        self.assertEqual(stored["role"], "admin")
        self.assertNotIn("admin password", result.output.split("Repeat")[-1].split("created")[-1])

    def test_create_admin_promotes_existing_user_without_prompting(self) -> None:
        user = self.make_user()
        result = self.runner.invoke(args=["create-admin", user["email"]])
        self.assertEqual(result.exit_code, 0, result.output)
        self.assertIn("promoted admin", result.output)
        self.assertEqual(self.db.users.find_one({"_id": user["_id"]})["role"], "admin")

    def test_create_admin_with_weak_password_fails_cleanly(self) -> None:
        result = self.runner.invoke(args=["create-admin", "x@example.com", "--name", "X"], input="short\nshort\n")
        self.assertEqual(result.exit_code, 1)
        self.assertIn("password", result.output)
        self.assertEqual(self.db.users.count_documents({}), 0)


class DbMigrateCommandTest(CommandTestCase):
    apply_migrations = False

    def test_db_migrate_applies_then_reports_up_to_date(self) -> None:
        status = self.runner.invoke(args=["db-migrate", "--status"])
        self.assertEqual(status.exit_code, 0, status.output)
        self.assertRegex(status.output, r"0001_lowercase_user_emails\s+pending")

        first = self.runner.invoke(args=["db-migrate"])
        self.assertEqual(first.exit_code, 0, first.output)
        self.assertIn("applied 0001_lowercase_user_emails", first.output)
        second = self.runner.invoke(args=["db-migrate"])
        self.assertIn("up to date", second.output)
        self.assertRegex(self.runner.invoke(args=["db-migrate", "--status"]).output, r"0001_\w+\s+applied 20")

    def test_db_migrate_rollback_of_irreversible_migration_fails_cleanly(self) -> None:
        self.runner.invoke(args=["db-migrate"])
        result = self.runner.invoke(args=["db-migrate", "--rollback"])
        self.assertEqual(result.exit_code, 1)
        self.assertIn("cannot be reverted", result.output)
        self.assertNotIn("Traceback", result.output)


class DbInitViolationCommandTest(CommandTestCase):
    def test_db_init_on_violating_data_prints_one_line_per_problem_and_exits_1(self) -> None:
        self.db.client.drop_database(self.db.name)
        self.addCleanup(self.db.client.drop_database, self.db.name)  # before the base class re-initialises it
        ids = self.db.users.insert_many([{"email": "ada@example.com"}, {"email": "ada@example.com"}]).inserted_ids
        result = self.runner.invoke(args=["db-init"])
        self.assertEqual(result.exit_code, 1, result.output)
        self.assertIsInstance(result.exception, SystemExit)  # a clean exit, not a traceback
        lines = result.output.strip().splitlines()
        self.assertEqual(len(lines), 3, result.output)
        self.assertTrue(lines[0].startswith("db-init: users: index email_unique"), lines)
        self.assertTrue(all(str(_id) in lines[0] for _id in ids), lines)
        self.assertTrue(lines[1].startswith("db-init: users: validator"), lines)
        self.assertIn("nothing was changed", lines[2])
        self.assertEqual(self.db.list_collection_names(), ["users"])
