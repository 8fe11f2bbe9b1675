"""Idempotency keys: the first response to a POST, kept so that a retry with the same key gets it again."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

from model.mongodb.base import Document, Model, utcnow

STATES = ("processing", "failed", "done")
_SHA256_HEX = {"bsonType": "string", "minLength": 64, "maxLength": 64}


class IdempotencyKey(Model):
    """One caller's key: the request it was first used for, its state and, once done, the response.

    `_id` is a hash of the caller's scope and the key, `fingerprint` a hash of the request (method, path,
    body). While `processing`, the request runs and holds the key until `locked_until`; `failed` means it
    ended in a server error and may run again; `done` keeps the response to replay. `resource_id` is an
    id reserved for whatever the request creates, the same on every run. A TTL index removes each entry
    at `expires_at`.
    """

    collection_name = "idempotency_keys"
    properties = {
        "_id": _SHA256_HEX,
        "fingerprint": _SHA256_HEX,
        "state": {"enum": list(STATES)},
        "locked_until": {"bsonType": "date"},
        "resource_id": {"bsonType": "objectId"},
        "response": {
            "bsonType": "object",
            "required": ["status", "headers", "body"],
            "additionalProperties": False,
            "properties": {
                "status": {"bsonType": "int", "minimum": 100, "maximum": 599},
                "headers": {"bsonType": "object"},
                "body": {"bsonType": "binData"},
            },
        },
        "expires_at": {"bsonType": "date"},
    }
    required = ("fingerprint", "state", "locked_until", "resource_id", "expires_at")
    indexes = (IndexModel([("expires_at", ASCENDING)], name="ttl_expires_at", expireAfterSeconds=0),)

    def claim(
        self, key_id: str, *, fingerprint: str, locked_until: datetime, expires_at: datetime
    ) -> tuple[Document, bool]:
        """Take the key for a run of this request; return the entry and whether this call took it.

        A new key is taken; so is one whose earlier run of the same request failed or let its lock
        expire (atomically: of two retries, one wins). Otherwise the entry is returned as it is.
        """
        for _ in range(3):  # the entry may expire or be released between two steps
            try:
                return self.insert(
                    {
                        "_id": key_id,
                        "fingerprint": fingerprint,
                        "state": "processing",
                        "locked_until": locked_until,
                        "resource_id": ObjectId(),
                        "expires_at": expires_at,
                    }
                ), True
            except DuplicateKeyError:
                pass
            taken = self.collection.find_one_and_update(
                {
                    "_id": key_id,
                    "fingerprint": fingerprint,
                    "$or": [{"state": "failed"}, {"state": "processing", "locked_until": {"$lte": utcnow()}}],
                },
                {"$set": {"state": "processing", "locked_until": locked_until, "updated_at": utcnow()}},
                return_document=ReturnDocument.AFTER,
            )
            if taken is not None:
                return taken, True
            existing = self.get(key_id)
            if existing is not None:
                return existing, False
        raise RuntimeError(f"idempotency key {key_id} kept changing")

    def complete(self, key_id: str, response: Mapping[str, Any]) -> None:
        """Keep the response of the run that holds the key."""
        self.collection.update_one(
            {"_id": key_id, "state": "processing"},
            {"$set": {"state": "done", "response": dict(response), "updated_at": utcnow()}},
        )

    def fail(self, key_id: str) -> None:
        """Let the next retry run the request again (this run ended in a server error)."""
        self.collection.update_one(
            {"_id": key_id, "state": "processing"}, {"$set": {"state": "failed", "updated_at": utcnow()}}
        )

    def release(self, key_id: str) -> None:
        """Forget the key (this run was refused and wrote nothing), so that it can be used again."""
        self.collection.delete_one({"_id": key_id, "state": "processing"})
