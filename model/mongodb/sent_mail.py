"""A record of each mail job that has delivered its message, so a job run twice sends once."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from model.mongodb.base import Model


class SentMail(Model):
    """One delivered mail, keyed by the job that sent it; kept a week (TTL), long after any redelivery."""

    collection_name = "sent_mail"
    properties = {
        "_id": {"bsonType": "string", "minLength": 1, "maxLength": 200},
        "template": {"bsonType": "string", "minLength": 1, "maxLength": 100},
        "expires_at": {"bsonType": "date"},
    }
    required = ("template", "expires_at")
    indexes = (IndexModel([("expires_at", ASCENDING)], name="ttl_expires_at", expireAfterSeconds=0),)

    def was_sent(self, key: str) -> bool:
        """Tell whether the job `key` has already delivered its mail."""
        return self.collection.count_documents({"_id": key}, limit=1) > 0

    def record(self, key: str, *, template: str, expires_at: datetime) -> None:
        """Note that the job `key` delivered its mail (again is fine)."""
        with suppress(DuplicateKeyError):
            self.insert({"_id": key, "template": template, "expires_at": expires_at})
