"""The RevokedToken model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from model.mongodb import RevokedToken
from tests.base import DatabaseTestCase


class RevokedTokenModelTest(DatabaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.expires = datetime.now(UTC) + timedelta(days=1)

    def test_exchange_succeeds_once_and_then_returns_the_first_successor(self) -> None:
        revocations = RevokedToken(self.db)
        first = {"sid": "s1", "iat": 1.5, "role": "user"}
        self.assertIsNone(revocations.exchange("sid:abc", expires_at=self.expires, successor=first))
        used = revocations.exchange(
            "sid:abc", expires_at=self.expires, successor={"sid": "s2", "iat": 2.5, "role": "user"}
        )
        self.assertEqual((used or {}).get("successor"), first)

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
