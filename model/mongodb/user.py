"""User accounts."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument

from model.mongodb.base import Document, Model, utcnow
from model.mongodb.revoked_token import RevokedToken

ROLES = ("user", "admin")


class User(Model):
    """An account: a unique, normalised email (verified or not), an Argon2 password hash, a name and a role.

    `token_version` (absent means 0) is copied into every token issued for the account; changing the
    password increments it in the same write, so every token issued before the change stops working.
    A `disabled` account keeps its data but can neither log in nor use its tokens.
    """

    collection_name = "users"
    properties = {
        "email": {"bsonType": "string", "minLength": 3, "maxLength": 254},
        "password_hash": {"bsonType": "string", "minLength": 1},
        "name": {"bsonType": "string", "minLength": 1, "maxLength": 100},
        "role": {"enum": list(ROLES)},
        # Absent on accounts created before e-mail verification existed: read as False.
        "email_verified": {"bsonType": "bool"},
        "token_version": {"bsonType": ["int", "long"], "minimum": 0},
        "disabled": {"bsonType": "bool"},
    }
    required = ("email", "password_hash", "name", "role")
    indexes = (IndexModel([("email", ASCENDING)], name="email_unique", unique=True),)

    def create(self, *, email: str, password_hash: str, name: str, role: str = "user") -> Document:
        """Insert a user; raises DuplicateKeyError when the email is taken."""
        return self.insert(
            {
                "email": email,
                "password_hash": password_hash,
                "name": name,
                "role": role,
                "email_verified": False,
                "token_version": 0,
            }
        )

    def find_by_email(self, email: str) -> Document | None:
        """Return the user with this (normalised) email, or None."""
        return self.collection.find_one({"email": email})

    def get_unless_revoked(
        self, user_id: ObjectId, projection: dict[str, int], revocation_keys: list[str]
    ) -> tuple[Document | None, bool]:
        """Return the user (`projection` of it) and whether any of `revocation_keys` is revoked, in one round trip.

        One aggregation reads the account and looks the keys up in the revocations; an authenticated
        request needs both, and each round trip costs the worker about 100 µs of CPU. When the account
        does not exist there is no document to join to, so the revocations are read on their own.
        """
        found = self.collection.aggregate(
            [
                {"$match": {"_id": user_id}},
                {"$project": projection},
                {
                    "$lookup": {
                        "from": RevokedToken.collection_name,
                        "pipeline": [
                            {"$match": {"_id": {"$in": revocation_keys}}},
                            {"$limit": 1},
                            {"$project": {"_id": 1}},
                        ],
                        "as": "revocations",
                    }
                },
            ]
        ).try_next()
        if found is None:
            return None, bool(RevokedToken(self.collection.database).find_any(revocation_keys))
        return found, bool(found.pop("revocations"))

    def set_fields(self, user_id: Any, **fields: Any) -> Document | None:
        """Change some of a user's fields; return the updated user, or None."""
        return self.update(user_id, fields)

    def replace_password_hash(
        self, user_id: ObjectId, *, expected: str, new: str, end_sessions: bool
    ) -> Document | None:
        """Swap the password hash if it is still `expected`; return the updated user, or None if it changed.

        With `end_sessions`, the token version moves on in the same atomic write.
        """
        update: dict[str, Any] = {"$set": {"password_hash": new, "updated_at": utcnow()}}
        if end_sessions:
            update["$inc"] = {"token_version": 1}
        return self.collection.find_one_and_update(
            {"_id": user_id, "password_hash": expected}, update, return_document=ReturnDocument.AFTER
        )

    def end_sessions(self, user_id: ObjectId) -> bool:
        """Invalidate every token issued for the user until now; tell whether the user exists."""
        result = self.collection.update_one({"_id": user_id}, {"$inc": {"token_version": 1}})
        return result.matched_count == 1
