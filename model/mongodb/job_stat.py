"""Counts of finished background jobs by job and outcome, shared by every worker for /metrics."""

from __future__ import annotations

from pymongo import ReturnDocument

from model.mongodb.base import Document, Model


class JobStat(Model):
    """One counter per "<job>:<outcome>" (succeeded, retried, failed)."""

    collection_name = "job_stats"
    properties = {
        "_id": {"bsonType": "string", "minLength": 3, "maxLength": 200},
        "job": {"bsonType": "string", "minLength": 1, "maxLength": 150},
        "outcome": {"enum": ["succeeded", "retried", "failed"]},
        "count": {"bsonType": ["int", "long"], "minimum": 1},
    }
    required = ("job", "outcome", "count")

    def count(self, job: str, outcome: str) -> None:
        """Add one to the counter of `job` and `outcome`."""
        self.collection.find_one_and_update(
            {"_id": f"{job}:{outcome}"},
            {"$inc": {"count": 1}, "$setOnInsert": self.stamp({"job": job, "outcome": outcome})},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )

    def all(self) -> list[Document]:
        """Return every counter."""
        return list(self.collection.find({}, {"job": 1, "outcome": 1, "count": 1}))
