"""Random-data factories: users, identities and posts, created through the controllers."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from pymongo.database import Database

from controller import post
from controller.auth import AuthSettings, Identity
from controller.pagination import cursor_key
from controller.user import signup
from model.mongodb import Document

PASSWORD = "correct horse battery"
SECRET = "test-secret-" + "x" * 40
CURSOR_KEY = cursor_key(SECRET)


def auth_settings(**changes: Any) -> AuthSettings:
    """Return auth settings like the testing config's, for controller tests that have no app."""
    settings: dict[str, Any] = {
        "secret_key": SECRET,
        "access_ttl": timedelta(minutes=15),
        "refresh_ttl": timedelta(days=14),
        "hasher": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    }
    return AuthSettings(**{**settings, **changes})


def random_email() -> str:
    """Return an unused-looking email address."""
    return f"user-{secrets.token_hex(5)}@example.com"


def make_user(
    db: Database, auth: AuthSettings, *, role: str = "user", password: str = PASSWORD, **fields: Any
) -> Document:
    """Create a user through the sign-up controller and return the stored document."""
    fields.setdefault("email", random_email())
    fields.setdefault("name", "Test User")
    return signup(db, auth, password=password, role=role, **fields)


def identity_of(user: Document) -> Identity:
    """Return an identity for `user`, as an access token would give it."""
    return Identity(user_id=user["_id"], role=user["role"], session_id="test-sid", family_id="test-fam")


def make_post(db: Database, owner: Document, **fields: Any) -> dict[str, Any]:
    """Create a post owned by `owner` through the controller and return it as the API shows it."""
    fields.setdefault("title", f"Post {secrets.token_hex(3)}")
    fields.setdefault("body", "Some text.")
    return post.create_post(db, identity_of(owner), **fields)
