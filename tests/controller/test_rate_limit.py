"""Fixed-window rate limits counted in the database."""

from __future__ import annotations

import unittest

from controller.rate_limit import RateLimit, hit
from tests.base import DatabaseTestCase


class RateLimitRuleTest(unittest.TestCase):
    def test_parse_reads_count_and_period(self) -> None:
        self.assertEqual(RateLimit.parse("10/minute"), RateLimit(10, 60))
        self.assertEqual(RateLimit.parse(" 5 / second "), RateLimit(5, 1))
        self.assertEqual(RateLimit.parse("1000/day"), RateLimit(1000, 86400))

    def test_parse_rejects_anything_else(self) -> None:
        for bad in ("", "10", "ten/minute", "0/minute", "10/fortnight", "10 per minute", "-1/hour"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                RateLimit.parse(bad)


class RateLimitHitTest(DatabaseTestCase):
    def test_hits_over_limit_return_seconds_to_window_end(self) -> None:
        rule = RateLimit(2, 60)
        now = 1_800_000_015.0  # 15 s into a minute window
        self.assertIsNone(hit(self.db, key="k", rule=rule, now=now))
        self.assertIsNone(hit(self.db, key="k", rule=rule, now=now))
        self.assertEqual(hit(self.db, key="k", rule=rule, now=now), 45)

    def test_keys_and_windows_are_counted_apart(self) -> None:
        rule = RateLimit(1, 60)
        now = 1_800_000_000.0
        self.assertIsNone(hit(self.db, key="a", rule=rule, now=now))
        self.assertIsNone(hit(self.db, key="b", rule=rule, now=now))
        self.assertIsNone(hit(self.db, key="a", rule=rule, now=now + 60))
        self.assertIsNotNone(hit(self.db, key="a", rule=rule, now=now + 61))
