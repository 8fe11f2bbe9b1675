"""The RateLimitCounter model."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from model.mongodb import RateLimitCounter
from tests.base import DatabaseTestCase


class RateLimitCounterModelTest(DatabaseTestCase):
    def test_hit_counts_up_from_one(self) -> None:
        counters = RateLimitCounter(self.db)
        expires = datetime.now(UTC) + timedelta(minutes=1)
        self.assertEqual([counters.hit("k", expires_at=expires) for _ in range(3)], [1, 2, 3])

    def test_concurrent_hits_lose_no_count(self) -> None:
        counters = RateLimitCounter(self.db)
        expires = datetime.now(UTC) + timedelta(minutes=1)
        with ThreadPoolExecutor(max_workers=8) as pool:
            counts = list(pool.map(lambda _: counters.hit("race", expires_at=expires), range(40)))
        self.assertEqual(self.db.rate_limits.find_one({"_id": "race"})["count"], 40)
        self.assertTrue(all(1 <= count <= 40 for count in counts))
        self.assertEqual(max(counts), 40)
