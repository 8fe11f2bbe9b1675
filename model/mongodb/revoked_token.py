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
        # For "sid:" entries of refreshed sessions: the session issued in exchange, so that the same
        # refresh presented again within the grace window gets the same pair (see controller/auth.py).
        "successor": {
            "bsonType": "object",
            "required": ["sid", "iat", "role"],
            "additionalProperties": False,
            "properties": {
                "sid": {"bsonType": "string"},
                "iat": {"bsonType": "double"},
                "role": {"bsonType": "string"},
            },
        },
    }
    required = ("expires_at",)
    indexes = (IndexModel([("expires_at", ASCENDING)], name="ttl_expires_at", expireAfterSeconds=0),)

    def exchange(self, key: str, *, expires_at: datetime, successor: Document) -> Document | None:
        """Revoke `key` recording what replaced it, if nobody has yet (atomic); else return the entry that did."""
        try:
            self.insert({"_id": key, "expires_at": expires_at, "successor": successor})
        except DuplicateKeyError:
            return self.get(key) or {"_id": key}  # expired in between: still used, with no successor
        return None

    def revoke(self, key: str, *, expires_at: datetime, revoked_before: float | None = None) -> None:
        """Revoke `key` (again), moving its expiry and cut-off forward."""
        fields: dict[str, object] = {"expires_at": expires_at}
        if revoked_before is not None:
            fields["revoked_before"] = revoked_before
        self.upsert(key, fields)

    def find_any(self, keys: Iterable[str]) -> list[Document]:
        """Return the revocations among `keys`."""
        return list(self.collection.find({"_id": {"$in": list(keys)}}))
