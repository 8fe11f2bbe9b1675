"""Backfill something (not reversible)."""

import time

from pymongo.database import Database


def up(db: Database) -> None:
    time.sleep(0.2)  # long enough for a second host to arrive while the lock is held
    db.migration_runs.update_one({"_id": "0002"}, {"$inc": {"runs": 1}}, upsert=True)
