"""JSON encoding of BSON types."""

from __future__ import annotations

import unittest
from datetime import UTC, datetime, timedelta, timezone

from bson import Decimal128, ObjectId

from app import create_app


class JsonProviderTest(unittest.TestCase):
    def setUp(self) -> None:
        self.json = create_app("testing").json

    def test_object_id_and_decimal_are_strings(self) -> None:
        oid = ObjectId()
        self.assertEqual(
            self.json.loads(self.json.dumps({"id": oid, "d": Decimal128("1.5")})), {"id": str(oid), "d": "1.5"}
        )

    def test_datetimes_are_iso_8601_with_timezone(self) -> None:
        aware = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
        naive = datetime(2026, 1, 2, 3, 4, 5)
        offset = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=9)))
        self.assertEqual(
            self.json.loads(self.json.dumps([aware, naive, offset])),
            ["2026-01-02T03:04:05.006000Z", "2026-01-02T03:04:05Z", "2026-01-02T03:04:05+09:00"],
        )

    def test_unknown_types_raise_type_error(self) -> None:
        with self.assertRaises(TypeError):
            self.json.dumps({"s": {1, 2}})

    def test_loads_rejects_non_standard_numbers(self) -> None:
        for raw in ("NaN", "Infinity", "1e999"):
            with self.subTest(raw=raw), self.assertRaises(ValueError):
                self.json.loads(raw)
