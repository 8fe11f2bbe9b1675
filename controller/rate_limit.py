"""Fixed-window rate limits counted in the database, so every worker and host shares them."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo.database import Database

from model.mongodb import RateLimitCounter

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RULE = re.compile(r"\s*(\d+)\s*/\s*(second|minute|hour|day)\s*")


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` hits per `window_seconds`."""

    limit: int
    window_seconds: int

    @classmethod
    def parse(cls, rule: str) -> RateLimit:
        """Read a rule such as "10/minute"; raise ValueError for anything else."""
        match = _RULE.fullmatch(rule)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"rate limit {rule!r} must look like 10/minute (second, minute, hour or day)")
        return cls(int(match.group(1)), _PERIODS[match.group(2)])


def hit(db: Database, *, key: str, rule: RateLimit, now: float | None = None) -> int | None:
    """Count one hit for `key`; return how many seconds to wait when it is over the limit, else None."""
    now = time.time() if now is None else now
    window = int(now // rule.window_seconds)
    window_end = (window + 1) * rule.window_seconds
    count = RateLimitCounter(db).hit(f"{key}:{window}", expires_at=datetime.fromtimestamp(window_end, UTC))
    if count <= rule.limit:
        return None
    return max(1, math.ceil(window_end - now))
