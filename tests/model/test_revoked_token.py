"""The RevokedToken model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from model.mongodb import RevokedToken
from tests.base import DatabaseTestCase


class RevokedTokenModelTest(DatabaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.expires = datetime.now(UTC) + timedelta(days=1)

    def test_consume_succeeds_once(self) -> None:
        revocations = RevokedToken(self.db)
        self.assertTrue(revocations.consume("sid:abc", expires_at=self.expires))
        self.assertFalse(revocations.consume("sid:abc", expires_at=self.expires))

    def test_revoke_is_idempotent_and_moves_the_cutoff(self) -> None:
        revocations = RevokedToken(self.db)
        revocations.revoke("user:1", expires_at=self.expires, revoked_before=100.0)
        revocations.revoke("user:1", expires_at=self.expires, revoked_before=200.0)
        [entry] = revocations.find_any(["user:1", "fam:none"])
        self.assertEqual(entry["revoked_before"], 200.0)

    def test_find_any_returns_only_matching_keys(self) -> None:
        revocations = RevokedToken(self.db)
        revocations.revoke("fam:x", expires_at=self.expires)
        self.assertEqual([entry["_id"] for entry in revocations.find_any(["sid:y", "fam:x"])], ["fam:x"])
        self.assertEqual(revocations.find_any(["sid:z"]), [])
