"""The migration runner, its lock, and the shipped migrations."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from model import migrations
from model.mongodb import MigrationLock, User
from tests.base import DatabaseTestCase

SAMPLES = "tests.model.sample_migrations"


class MigrationRunnerTest(DatabaseTestCase):
    apply_migrations = False

    def setUp(self) -> None:
        super().setUp()
        self.samples = migrations.discover(SAMPLES)

    def runs(self) -> dict[str, int]:
        return {entry["_id"]: entry["runs"] for entry in self.db.migration_runs.find()}

    def test_discover_orders_by_name_and_reads_descriptions(self) -> None:
        self.assertEqual([m.name for m in self.samples], ["0001_add_flag", "0002_backfill"])
        self.assertEqual(self.samples[0].description, "Add a flag document (reversible).")
        self.assertIsNotNone(self.samples[0].down)
        self.assertIsNone(self.samples[1].down)

    def test_migrate_applies_pending_once_and_is_safe_to_rerun(self) -> None:
        self.assertEqual(migrations.migrate(self.db, self.samples), ["0001_add_flag", "0002_backfill"])
        self.assertEqual(migrations.migrate(self.db, self.samples), [])
        self.assertEqual(self.runs(), {"0001": 1, "0002": 1})

    def test_status_lists_applied_and_pending(self) -> None:
        migrations.migrate(self.db, self.samples[:1])
        rows = migrations.status(self.db, self.samples)
        self.assertEqual(
            [(name, applied is not None) for name, applied, _ in rows],
            [
                ("0001_add_flag", True),
                ("0002_backfill", False),
            ],
        )

    def test_status_reports_applied_migration_without_module(self) -> None:
        migrations.migrate(self.db, self.samples)
        rows = migrations.status(self.db, self.samples[:1])
        self.assertIn("missing", rows[1][2])

    def test_concurrent_hosts_apply_each_migration_once(self) -> None:
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda _: migrations.migrate(self.db, self.samples, wait_s=10), range(4)))
        self.assertEqual(sorted(name for applied in results for name in applied), ["0001_add_flag", "0002_backfill"])
        self.assertEqual(self.runs(), {"0001": 1, "0002": 1})
        self.assertIsNone(MigrationLock(self.db).holder())

    def test_lock_held_by_another_host_times_out(self) -> None:
        self.assertTrue(MigrationLock(self.db).acquire("other-host", lease=timedelta(minutes=5)))
        with self.assertRaisesRegex(migrations.MigrationError, "other-host"):
            migrations.migrate(self.db, self.samples, wait_s=0.3)
        self.assertEqual(self.runs(), {})

    def test_lapsed_lock_is_taken_over(self) -> None:
        MigrationLock(self.db).acquire("dead-host", lease=timedelta(seconds=-1))
        self.assertEqual(len(migrations.migrate(self.db, self.samples, wait_s=0)), 2)

    def test_rollback_reverts_last_reversible_migration(self) -> None:
        migrations.migrate(self.db, self.samples[:1])
        self.assertEqual(migrations.rollback(self.db, self.samples), "0001_add_flag")
        self.assertIsNone(self.db.flags.find_one())
        self.assertIsNone(migrations.rollback(self.db, self.samples))

    def test_rollback_refuses_irreversible_migration(self) -> None:
        migrations.migrate(self.db, self.samples)
        with self.assertRaisesRegex(migrations.MigrationError, "0002_backfill"):
            migrations.rollback(self.db, self.samples)

    def test_failing_migration_is_not_recorded(self) -> None:
        def broken(db: object) -> None:
            raise RuntimeError("boom")

        failing = migrations.Migration("0003_broken", broken, None, "")
        with self.assertRaises(RuntimeError):
            migrations.migrate(self.db, [*self.samples, failing])
        self.assertEqual(migrations.migrate(self.db, self.samples), [])
        self.assertNotIn("0003_broken", {name for name, applied, _ in migrations.status(self.db, []) if applied})


class ShippedMigrationsTest(DatabaseTestCase):
    apply_migrations = False

    def insert_user(self, email: str) -> None:
        User(self.db).collection.insert_one(
            User.stamp({"email": email, "password_hash": "$argon2id$x", "name": "N", "role": "user"})
        )

    def test_shipped_migrations_load(self) -> None:
        names = [m.name for m in migrations.discover()]
        self.assertIn("0001_lowercase_user_emails", names)

    def test_lowercase_user_emails_normalises_and_is_idempotent(self) -> None:
        self.insert_user(" Ada@Example.COM ")
        self.insert_user("bob@example.com")
        shipped = migrations.discover()
        self.assertEqual(migrations.migrate(self.db, shipped), ["0001_lowercase_user_emails"])
        emails = sorted(user["email"] for user in self.db.users.find())
        self.assertEqual(emails, ["ada@example.com", "bob@example.com"])

    def test_lowercase_user_emails_stops_on_clash_without_recording(self) -> None:
        self.insert_user("ada@example.com")
        self.insert_user("ADA@example.com")
        with self.assertRaisesRegex(migrations.MigrationError, "ADA@example.com"):
            migrations.migrate(self.db, migrations.discover())
        self.assertEqual(sorted(user["email"] for user in self.db.users.find()), ["ADA@example.com", "ada@example.com"])
        self.assertEqual(migrations.status(self.db, migrations.discover())[0][1], None)
