"""Bookkeeping for schema migrations: which ones ran, and the lock that lets only one host run them."""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from model.mongodb.base import Document, Model, utcnow

LOCK_ID = "migrate"


class AppliedMigration(Model):
    """One applied migration, keyed by its module name (`0001_lowercase_user_emails`)."""

    collection_name = "schema_migrations"
    properties = {
        "_id": {"bsonType": "string", "minLength": 1, "maxLength": 200},
        "duration_ms": {"bsonType": ["double", "int", "long"], "minimum": 0},
    }
    required = ("duration_ms",)

    def applied(self) -> dict[str, Document]:
        """Return every applied migration by name."""
        return {entry["_id"]: entry for entry in self.collection.find()}

    def record(self, name: str, *, duration_ms: float) -> None:
        """Record that `name` has been applied."""
        self.insert({"_id": name, "duration_ms": float(duration_ms)})


class MigrationLock(Model):
    """A lease that one process holds while it migrates; it lapses at `expires_at` if its holder dies."""

    collection_name = "migration_lock"
    properties = {
        "_id": {"bsonType": "string"},
        "owner": {"bsonType": "string", "minLength": 1, "maxLength": 200},
        "expires_at": {"bsonType": "date"},
    }
    required = ("owner", "expires_at")
    indexes = (IndexModel([("expires_at", ASCENDING)], name="ttl_expires_at", expireAfterSeconds=0),)

    def acquire(self, owner: str, *, lease: timedelta) -> bool:
        """Take the lock if it is free or its lease has lapsed; tell whether `owner` now holds it."""
        now = utcnow()
        try:
            self.collection.find_one_and_update(
                {"_id": LOCK_ID, "expires_at": {"$lt": now}},
                {
                    "$set": {"owner": owner, "expires_at": now + lease, "updated_at": now},
                    "$setOnInsert": {"schema_version": self.schema_version, "created_at": now},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # held by someone else, lease still running
        return True

    def release(self, owner: str) -> None:
        """Give the lock back, if `owner` still holds it."""
        self.collection.delete_one({"_id": LOCK_ID, "owner": owner})

    def holder(self) -> tuple[str, datetime] | None:
        """Return who holds the lock and until when, or None."""
        lock = self.get(LOCK_ID)
        return (lock["owner"], lock["expires_at"]) if lock else None
