"""The User model."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError, WriteError

from model.mongodb import User
from tests.base import DatabaseTestCase


class UserModelTest(DatabaseTestCase):
    def create(self, **fields: str) -> dict:
        values = {"email": "a@example.com", "password_hash": "$argon2id$x", "name": "A", **fields}
        return User(self.db).create(**values)

    def test_create_and_find_by_email(self) -> None:
        created = self.create()
        self.assertEqual(User(self.db).find_by_email("a@example.com"), created)
        self.assertIsNone(User(self.db).find_by_email("b@example.com"))

    def test_email_is_unique(self) -> None:
        self.create()
        with self.assertRaises(DuplicateKeyError):
            self.create(name="Other")

    def test_validator_rejects_unknown_role_and_empty_name(self) -> None:
        for fields in ({"role": "root"}, {"name": ""}, {"email": "x"}):
            with self.subTest(fields=fields), self.assertRaises(WriteError):
                self.create(**fields)

    def test_set_fields_updates_and_returns_user(self) -> None:
        created = self.create()
        updated = User(self.db).set_fields(created["_id"], role="admin")
        self.assertEqual(updated["role"], "admin")
