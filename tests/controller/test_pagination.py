"""Opaque keyset cursors."""

from __future__ import annotations

import base64
import unittest
from datetime import UTC, datetime

from bson import ObjectId

from controller.errors import InvalidInput
from controller.pagination import decode_cursor, encode_cursor


class CursorTest(unittest.TestCase):
    def test_round_trip_keeps_millisecond_position(self) -> None:
        at, last_id = datetime(2026, 5, 6, 7, 8, 9, 123000, tzinfo=UTC), ObjectId()
        cursor = encode_cursor(order="newest", at=at, last_id=last_id)
        self.assertRegex(cursor, r"^[A-Za-z0-9_-]+$")
        self.assertEqual(decode_cursor(cursor, order="newest"), (at, last_id))

    def test_cursor_for_another_order_or_tampered_is_invalid(self) -> None:
        cursor = encode_cursor(order="newest", at=datetime.now(UTC), last_id=ObjectId())

        def b64(raw: str) -> str:
            return base64.urlsafe_b64encode(raw.encode()).decode()

        bad = [
            "",
            "!!!",
            cursor[:-3],
            b64("[]"),
            b64('["newest", "soon", "x"]'),
            b64('["newest", true, "' + "a" * 24 + '"]'),
            b64('["newest", 1, "nothex"]'),
            b64('["newest", 1e300, "' + "a" * 24 + '"]'),
            b64('["newest", 99999999999999999, "' + "a" * 24 + '"]'),
        ]
        with self.assertRaises(InvalidInput):
            decode_cursor(cursor, order="oldest")
        for value in bad:
            with self.subTest(value=value), self.assertRaises(InvalidInput):
                decode_cursor(value, order="newest")
