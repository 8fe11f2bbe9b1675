"""The User model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo.errors import DuplicateKeyError, WriteError

from model.mongodb import RevokedToken, User
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

    def test_get_unless_revoked_reads_the_account_and_its_revocations_together(self) -> None:
        created = self.create()
        later = datetime.now(UTC) + timedelta(hours=1)
        RevokedToken(self.db).revoke("fam:gone", expires_at=later)
        users, projection = User(self.db), {"role": 1, "token_version": 1}
        cases = [
            (
                created["_id"],
                ["sid:live", "fam:live"],
                {"_id": created["_id"], "role": "user", "token_version": 0},
                False,
            ),
            (
                created["_id"],
                ["sid:live", "fam:gone"],
                {"_id": created["_id"], "role": "user", "token_version": 0},
                True,
            ),
            (ObjectId(), ["fam:gone"], None, True),  # no account to join to: the revocations are still read
            (ObjectId(), ["fam:live"], None, False),
        ]
        for user_id, keys, user, revoked in cases:
            with self.subTest(keys=keys, exists=user is not None):
                self.assertEqual(users.get_unless_revoked(user_id, projection, keys), (user, revoked))

    def test_set_fields_updates_and_returns_user(self) -> None:
        created = self.create()
        updated = User(self.db).set_fields(created["_id"], role="admin")
        self.assertEqual(updated["role"], "admin")
