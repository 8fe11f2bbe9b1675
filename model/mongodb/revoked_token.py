"""Revoked token sessions, families and users; each entry expires when the tokens it covers would."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from model.mongodb.base import Document, Model


class RevokedToken(Model):
    """A revocation keyed by what it revokes: "sid:<session>", "fam:<login family>" or "user:<user id>".

    A TTL index removes each entry at `expires_at`, when every token it could match has expired anyway,
    so the collection never grows without bound.
    """

    collection_name = "revoked_tokens"
    properties = {
        "_id": {"bsonType": "string", "minLength": 5, "maxLength": 100},
        "expires_at": {"bsonType": "date"},
        # For "user:" entries: tokens issued at or before this Unix time (in seconds) are revoked.
        "revoked_before": {"bsonType": "double"},
    }
    required = ("expires_at",)
    indexes = (IndexModel([("expires_at", ASCENDING)], name="ttl_expires_at", expireAfterSeconds=0),)

    def consume(self, key: str, *, expires_at: datetime) -> bool:
        """Revoke `key` if nobody has yet; tell whether this call was the one that did (atomic)."""
        try:
            self.insert({"_id": key, "expires_at": expires_at})
        except DuplicateKeyError:
            return False
        return True

    def revoke(self, key: str, *, expires_at: datetime, revoked_before: float | None = None) -> None:
        """Revoke `key` (again), moving its expiry and cut-off forward."""
        fields: dict[str, object] = {"expires_at": expires_at}
        if revoked_before is not None:
            fields["revoked_before"] = revoked_before
        self.upsert(key, fields)

    def find_any(self, keys: Iterable[str]) -> list[Document]:
        """Return the revocations among `keys`."""
        return list(self.collection.find({"_id": {"$in": list(keys)}}))
