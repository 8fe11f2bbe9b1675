"""The schema state: what db-init would change, and the stored data that stops it."""

from __future__ import annotations

import threading
from typing import Any

from bson import ObjectId
from pymongo.database import Database

from model.mongodb import SchemaViolation, User, init_db, missing_schema, utcnow
from tests.base import DatabaseTestCase


def user_fields(email: str) -> dict[str, object]:
    """Return a users document that the validator accepts."""
    now = utcnow()
    return {
        "_id": ObjectId(),
        "email": email,
        "password_hash": "$argon2id$stored",
        "name": "Someone",
        "role": "user",
        "schema_version": User.schema_version,
        "created_at": now,
        "updated_at": now,
    }


class MissingSchemaTest(DatabaseTestCase):
    def test_missing_schema_is_empty_after_init_db(self) -> None:
        self.assertEqual(missing_schema(self.db), [])

    def test_missing_schema_names_collections_validators_indexes_and_seeds(self) -> None:
        self.db.drop_collection("posts")
        self.db.users.drop_index("email_unique")
        self.db.command("collMod", "logs", validator={})
        self.db.master_config.delete_many({})
        self.assertEqual(
            sorted(missing_schema(self.db)),
            ["collection posts", "index users.email_unique", "seed documents of master_config", "validator of logs"],
        )
        init_db(self.db)
        self.assertEqual(missing_schema(self.db), [])


class ConcurrentInitTest(DatabaseTestCase):
    def test_processes_bringing_a_fresh_database_up_at_once_all_succeed(self) -> None:
        # A development web app and its worker upgrade the schema on first use, possibly at the same moment:
        # the one that finds a collection created meanwhile goes on (it answered 500 before).
        for attempt in range(5):
            db = self.db.client[f"{self.db.name}_race{attempt}"]
            self.addCleanup(self.db.client.drop_database, db.name)
            self.assertEqual(self.init_at_once(db, 3), [])
            self.assertEqual(missing_schema(db), [])

    @staticmethod
    def init_at_once(db: Database[Any], count: int) -> list[BaseException]:
        """Run init_db in `count` threads released together; return what they raised."""
        errors: list[BaseException] = []
        barrier = threading.Barrier(count)

        def bring_up() -> None:
            barrier.wait()
            try:
                init_db(db)
            except BaseException as error:  # reported by the caller
                errors.append(error)

        threads = [threading.Thread(target=bring_up) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return errors


class ViolationTest(DatabaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.db.client.drop_database(self.db.name)
        self.addCleanup(self.db.client.drop_database, self.db.name)  # before the base class re-initialises it
        # A database from before the unique index and the validators: duplicates and a stray document.
        self.first, self.second = user_fields("ada@example.com"), user_fields("ada@example.com")
        self.db.users.insert_many([self.first, self.second, user_fields("bob@example.com")])
        self.stray = self.db.posts.insert_one({"title": "no body, no owner"}).inserted_id

    def test_init_db_reports_each_problem_with_ids_and_fix_and_changes_nothing(self) -> None:
        with self.assertRaises(SchemaViolation) as raised:
            init_db(self.db)
        problems = raised.exception.problems
        self.assertEqual(len(problems), 2, problems)
        users = next(problem for problem in problems if problem.startswith("users: index email_unique"))
        self.assertIn(str(self.first["_id"]), users)
        self.assertIn(str(self.second["_id"]), users)
        self.assertIn("fix: remove or change the duplicates", users)
        posts = next(problem for problem in problems if problem.startswith("posts: validator"))
        self.assertIn(str(self.stray), posts)
        self.assertIn("fix:", posts)
        # Nothing was half-applied: no new collection, no index, no validator.
        self.assertEqual(sorted(self.db.list_collection_names()), ["posts", "users"])
        self.assertNotIn("email_unique", self.db.users.index_information())

    def test_init_db_applies_once_the_data_is_fixed(self) -> None:
        self.db.users.delete_one({"_id": self.second["_id"]})
        self.db.posts.delete_one({"_id": self.stray})
        changes = init_db(self.db)
        self.assertIn("created index users.email_unique", changes)
        self.assertEqual(missing_schema(self.db), [])
