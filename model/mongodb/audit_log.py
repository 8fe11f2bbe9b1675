"""The audit and request log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo import ASCENDING, IndexModel

from model.mongodb.base import Document, Model

RETENTION = timedelta(days=30)


class AuditLog(Model):
    """Append-only log entries, removed by a TTL index after RETENTION so the collection stays bounded."""

    collection_name = "logs"
    properties = {
        "event": {"bsonType": "string", "minLength": 1, "maxLength": 100},
        "request_id": {"bsonType": ["string", "null"], "maxLength": 128},
        "actor": {"bsonType": ["string", "null"], "maxLength": 200},
        "detail": {"bsonType": "object"},
    }
    required = ("event", "detail")
    indexes = (
        IndexModel(
            [("created_at", ASCENDING)],
            name="ttl_created_at",
            expireAfterSeconds=int(RETENTION.total_seconds()),
        ),
    )

    def write(
        self,
        event: str,
        *,
        detail: dict[str, Any] | None = None,
        request_id: str | None = None,
        actor: str | None = None,
    ) -> Document:
        """Append one entry and return it."""
        return self.insert({"event": event, "detail": detail or {}, "request_id": request_id, "actor": actor})

    def write_many(self, event: str, entries: Sequence[dict[str, Any]]) -> int:
        """Append one entry per item (`request_id`, `actor` and `detail` keys) unordered; return how many."""
        documents = [
            self.stamp(
                {"event": event, "detail": e["detail"], "request_id": e.get("request_id"), "actor": e.get("actor")}
            )
            for e in entries
        ]
        return len(self.collection.insert_many(documents, ordered=False).inserted_ids) if documents else 0

    def latest(self, limit: int) -> list[Document]:
        """Return the newest `limit` entries, newest first."""
        # _id order is insertion order within a process and creation-second order across processes.
        return list(self.collection.find().sort("_id", -1).limit(limit))
