"""Opaque, signed keyset cursors."""

from __future__ import annotations

import base64
import json
import unittest
from datetime import UTC, datetime

from bson import ObjectId

from controller.errors import InvalidInput
from controller.pagination import Listing, cursor_key

KEY = cursor_key("test-secret-" + "x" * 40)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class CursorTest(unittest.TestCase):
    def test_round_trip_keeps_millisecond_position(self) -> None:
        at, last_id = datetime(2026, 5, 6, 7, 8, 9, 123000, tzinfo=UTC), ObjectId()
        listing = Listing(KEY, "newest", {"tag": "python"})
        cursor = listing.encode(at=at, last_id=last_id)
        self.assertRegex(cursor, r"^[A-Za-z0-9_-]+$")
        self.assertLessEqual(len(cursor), 200)
        self.assertEqual(listing.decode(cursor), (at, last_id))

    def test_cursor_is_bound_to_sort_filters_and_key(self) -> None:
        cursor = Listing(KEY, "newest", {"tag": "python"}).encode(at=datetime.now(UTC), last_id=ObjectId())
        others = [
            Listing(KEY, "oldest", {"tag": "python"}),
            Listing(KEY, "newest", {"tag": "rust"}),
            Listing(KEY, "newest", {}),
            Listing(KEY, "newest", {"tag": "python", "author": "a" * 24}),
            Listing(cursor_key("another-secret-" + "y" * 40), "newest", {"tag": "python"}),
        ]
        for listing in others:
            with self.subTest(listing=listing), self.assertRaises(InvalidInput):
                listing.decode(cursor)

    def test_forged_or_tampered_cursors_are_invalid(self) -> None:
        listing = Listing(KEY, "newest")
        cursor = listing.encode(at=datetime.now(UTC), last_id=ObjectId())
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.dumps(["newest", 1, "a" * 24]).encode()
        bad = [
            "",
            "!!!",
            cursor[:-3],
            b64(position),  # an unsigned, hand-built cursor
            b64(b"\x00" * 16 + position),
            b64(raw[:16] + position),  # a real MAC on another position
            b64(raw[:-2] + b"9]"),
        ]
        for value in bad:
            with self.subTest(value=value), self.assertRaises(InvalidInput):
                listing.decode(value)
