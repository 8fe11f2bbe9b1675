"""User accounts."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, IndexModel

from model.mongodb.base import Document, Model

ROLES = ("user", "admin")


class User(Model):
    """An account: a unique, normalised email (verified or not), an Argon2 password hash, a name and a role."""

    collection_name = "users"
    properties = {
        "email": {"bsonType": "string", "minLength": 3, "maxLength": 254},
        "password_hash": {"bsonType": "string", "minLength": 1},
        "name": {"bsonType": "string", "minLength": 1, "maxLength": 100},
        "role": {"enum": list(ROLES)},
        # Absent on accounts created before e-mail verification existed: read as False.
        "email_verified": {"bsonType": "bool"},
    }
    required = ("email", "password_hash", "name", "role")
    indexes = (IndexModel([("email", ASCENDING)], name="email_unique", unique=True),)

    def create(self, *, email: str, password_hash: str, name: str, role: str = "user") -> Document:
        """Insert a user; raises DuplicateKeyError when the email is taken."""
        return self.insert(
            {"email": email, "password_hash": password_hash, "name": name, "role": role, "email_verified": False}
        )

    def find_by_email(self, email: str) -> Document | None:
        """Return the user with this (normalised) email, or None."""
        return self.collection.find_one({"email": email})

    def set_fields(self, user_id: Any, **fields: Any) -> Document | None:
        """Change some of a user's fields; return the updated user, or None."""
        return self.update(user_id, fields)
