"""The AuditLog model."""

from __future__ import annotations

from model.mongodb import AuditLog
from model.mongodb.audit_log import RETENTION
from tests.base import DatabaseTestCase


class LogModelTest(DatabaseTestCase):
    def test_log_has_ttl_index_so_it_cannot_grow_forever(self) -> None:
        index = self.db.logs.index_information()["ttl_created_at"]
        self.assertEqual(index["key"], [("created_at", 1)])
        self.assertEqual(index["expireAfterSeconds"], RETENTION.total_seconds())

    def test_write_and_latest_round_trip(self) -> None:
        log = AuditLog(self.db)
        written = log.write("thing.done", detail={"n": 1}, request_id="abc", actor="me")
        self.assertEqual(log.latest(1), [written])

    def test_latest_returns_newest_first(self) -> None:
        log = AuditLog(self.db)
        for number in range(4):
            log.write("e", detail={"n": number})
        self.assertEqual([entry["detail"]["n"] for entry in log.latest(3)], [3, 2, 1])
