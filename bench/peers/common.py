"""What the three peers share, so they do the same database work as the project and nothing more."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import jwt
from bson import ObjectId
from pymongo import MongoClient
from pymongo.database import Database

MAX_SAFE = 2**53 - 1  # the project's calculator bound: a larger operand or result is a 422
STATUSES = ("draft", "published")
TAG_PATTERN = r"^\s*[A-Za-z0-9][A-Za-z0-9_-]{0,29}\s*$"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "sid", "fam", "type", "role"]


class Unauthorized(Exception):
    """Raised when a bearer token is missing, invalid or revoked."""


def database() -> Database[dict[str, Any]]:
    """Open the benchmark database from MONGODB_URI / MONGODB_DB (lazily: no connection before a request)."""
    client: MongoClient[dict[str, Any]] = MongoClient(os.environ["MONGODB_URI"], connect=False, tz_aware=True)
    return client[os.environ["MONGODB_DB"]]


def authenticate(db: Database[dict[str, Any]], secret: str, header: str | None) -> ObjectId:
    """Return the user id an access token proves: the project's JWT check and its one revocation lookup."""
    if not header or not header.startswith("Bearer "):
        raise Unauthorized("A bearer token is required.")
    try:
        claims = jwt.decode(header[7:], secret, algorithms=["HS256"], options={"require": REQUIRED_CLAIMS})
        user_id = ObjectId(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise Unauthorized("The token is invalid.") from None
    if claims["type"] != "access":
        raise Unauthorized("An access token is required.")
    keys = [f"sid:{claims['sid']}", f"fam:{claims['fam']}", f"user:{claims['sub']}"]
    for revocation in db.revoked_tokens.find({"_id": {"$in": keys}}):
        cutoff = revocation.get("revoked_before")
        if cutoff is None or claims["iat"] <= cutoff:
            raise Unauthorized("The token has been revoked.")
    return user_id


def new_post(owner_id: ObjectId, title: str, body: str, tags: list[str], status: str) -> dict[str, Any]:
    """Return a post document as the project's model stores it."""
    now = datetime.now(UTC)
    return {
        "title": title.strip(),
        "body": body.strip(),
        "tags": list(dict.fromkeys(tag.strip().lower() for tag in tags)),
        "status": status,
        "owner_id": owner_id,
        "published_at": now if status == "published" else None,
        "created_at": now,
        "updated_at": now,
        "schema_version": 1,
    }


def shown(post: dict[str, Any]) -> dict[str, Any]:
    """Return a stored post as the API shows it (ids as strings, owner as author_id)."""
    hidden = ("_id", "owner_id", "schema_version")
    result = {"id": str(post["_id"]), **{k: v for k, v in post.items() if k not in hidden}}
    result["author_id"] = str(post["owner_id"])
    return result
