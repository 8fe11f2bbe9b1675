"""Single-use tokens mailed for account flows: password reset, e-mail verification, change of e-mail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel

from model.mongodb.base import Document, Model, utcnow

PURPOSES = ("password_reset", "verify_email", "change_email")


class AccountToken(Model):
    """One mailed token, stored by the SHA-256 of its value (never the value itself).

    `purpose` says which flow it serves; `email` is the address it was sent to (for a change of e-mail,
    the new address). A TTL index removes it at `expires_at`; consuming it deletes it (single use).
    """

    collection_name = "account_tokens"
    properties = {
        "_id": {"bsonType": "string", "minLength": 64, "maxLength": 64},
        "purpose": {"enum": list(PURPOSES)},
        "user_id": {"bsonType": "objectId"},
        "email": {"bsonType": "string", "minLength": 3, "maxLength": 254},
        "expires_at": {"bsonType": "date"},
        # Password reset: the account's token_version at issue; a password change since voids the token.
        "token_version": {"bsonType": ["int", "long"], "minimum": 0},
    }
    required = ("purpose", "user_id", "email", "expires_at")
    indexes = (
        IndexModel([("expires_at", ASCENDING)], name="ttl_expires_at", expireAfterSeconds=0),
        IndexModel([("user_id", ASCENDING), ("purpose", ASCENDING)], name="user_purpose"),
    )

    def create(
        self,
        *,
        digest: str,
        purpose: str,
        user_id: Any,
        email: str,
        expires_at: datetime,
        token_version: int | None = None,
    ) -> Document:
        """Store a token by its digest (bound to the account's `token_version` when given)."""
        token = {"_id": digest, "purpose": purpose, "user_id": user_id, "email": email, "expires_at": expires_at}
        if token_version is not None:
            token["token_version"] = token_version
        return self.insert(token)

    def consume(self, digest: str, *, purpose: str) -> Document | None:
        """Delete and return the unexpired token with this digest and purpose, or None (atomic: once only)."""
        # The TTL sweep runs once a minute, so an expired token may still be there: the filter excludes it.
        return self.collection.find_one_and_delete({"_id": digest, "purpose": purpose, "expires_at": {"$gt": utcnow()}})

    def delete_for_user(self, user_id: Any, *, purpose: str) -> int:
        """Delete every token of this purpose for a user; return how many there were."""
        return self.collection.delete_many({"user_id": user_id, "purpose": purpose}).deleted_count
