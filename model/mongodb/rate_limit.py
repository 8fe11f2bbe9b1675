"""Request counters for rate limiting, shared by every worker and host through the database."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from model.mongodb.base import Model


class RateLimitCounter(Model):
    """One counter per key and time window; a TTL index removes it once its window has passed."""

    collection_name = "rate_limits"
    properties = {
        "_id": {"bsonType": "string", "minLength": 1, "maxLength": 300},
        "count": {"bsonType": ["int", "long"], "minimum": 1},
        "expires_at": {"bsonType": "date"},
    }
    required = ("count", "expires_at")
    indexes = (IndexModel([("expires_at", ASCENDING)], name="ttl_expires_at", expireAfterSeconds=0),)

    def hit(self, key: str, *, expires_at: datetime) -> int:
        """Add one to the counter called `key` (created if needed) and return the new count."""
        update = {"$inc": {"count": 1}, "$setOnInsert": self.stamp({"expires_at": expires_at})}
        try:
            counter = self._increment(key, update)
        except DuplicateKeyError:
            # Two first hits raced to create the counter; the loser now finds it and increments it.
            counter = self._increment(key, update)
        if counter is None:
            # MongoDB always returns the upserted document; the embedded server sometimes answers None
            # under concurrent upserts although the increment was applied, so read the count back.
            counter = self.collection.find_one({"_id": key}) or {"count": 1}
        return int(counter["count"])

    def _increment(self, key: str, update: dict) -> dict | None:
        return self.collection.find_one_and_update(
            {"_id": key}, update, upsert=True, return_document=ReturnDocument.AFTER
        )
