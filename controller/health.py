"""Liveness and readiness."""

from __future__ import annotations

import time
from typing import Any

import pymongo
from pymongo.database import Database

from model.mongodb import ping


def check_ready(db: Database, *, timeout_s: float) -> dict[str, Any]:
    """Ping the database within `timeout_s`; raise the driver's error when it does not answer."""
    started = time.perf_counter()
    with pymongo.timeout(timeout_s):
        ping(db)
    return {"status": "ready", "database": {"ping_ms": round((time.perf_counter() - started) * 1000, 2)}}
