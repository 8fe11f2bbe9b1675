"""limits' MongoDB storage on the app's own client and database (the counters of app.http.rate_limits)."""

from __future__ import annotations

from typing import Any

from limits.storage import MongoDBStorage
from pymongo import MongoClient
from pymongo.database import Database

from app.services.database import Mongo

COUNTERS, WINDOWS = "rate_limit_counters", "rate_limit_windows"


class AppMongoStorage(MongoDBStorage):
    """limits' MongoDB storage on the app's own client and database, instead of a client of its own.

    It overrides the two properties through which `limits` (pinned) reaches MongoDB, so that the
    counters use the process's one client (rebuilt after a fork) and the app's database.
    """

    STORAGE_SCHEME = ["app-mongodb"]

    def __init__(self, uri: str, *, mongo: Mongo, **options: Any) -> None:
        super().__init__(uri, counter_collection_name=COUNTERS, window_collection_name=WINDOWS)
        self.mongo = mongo
        self.indexed: Database | None = None

    @property
    def storage(self) -> MongoClient:
        return self.mongo.client

    @property
    def _database(self) -> Database:
        database = self.mongo.db
        if self.indexed is not database:
            # A TTL index removes each window once it has run out.
            for name in (COUNTERS, WINDOWS):
                database[name].create_index("expireAt", name="ttl_expire_at", expireAfterSeconds=0)
            self.indexed = database
        return database

    def __del__(self) -> None:
        """Leave the shared client open: the app owns it."""
