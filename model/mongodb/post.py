"""Blog posts: the complete sample resource."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from model.mongodb.base import Document, Model

# The limits of a post: the validator below enforces them, the controller and the API read them from here.
STATUSES = ("draft", "published")
TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 20_000
MAX_TAGS = 10
TAG_MAX_LENGTH = 30
# Every list query filters on status (and maybe a tag or an owner) and orders by (published_at, _id).
_ORDER = [("published_at", DESCENDING), ("_id", DESCENDING)]


class Post(Model):
    """A post with a title, a body, tags, a status and an owner; drafts have no `published_at`."""

    collection_name = "posts"
    properties = {
        "title": {"bsonType": "string", "minLength": 1, "maxLength": TITLE_MAX_LENGTH},
        "body": {"bsonType": "string", "minLength": 1, "maxLength": BODY_MAX_LENGTH},
        "tags": {
            "bsonType": "array",
            "maxItems": MAX_TAGS,
            "items": {"bsonType": "string", "minLength": 1, "maxLength": TAG_MAX_LENGTH},
        },
        "status": {"enum": list(STATUSES)},
        "owner_id": {"bsonType": "objectId"},
        "published_at": {"bsonType": ["date", "null"]},
    }
    required = ("title", "body", "tags", "status", "owner_id", "published_at")
    indexes = (
        IndexModel([("status", ASCENDING), *_ORDER], name="status_published"),
        IndexModel([("status", ASCENDING), ("tags", ASCENDING), *_ORDER], name="status_tags_published"),
        IndexModel([("status", ASCENDING), ("owner_id", ASCENDING), *_ORDER], name="status_owner_published"),
    )

    def list_page(
        self,
        *,
        status: str,
        limit: int,
        newest_first: bool,
        tag: str | None = None,
        owner_id: ObjectId | None = None,
        after: tuple[datetime, ObjectId] | None = None,
    ) -> list[Document]:
        """Return a keyset page of posts with this status (and tag, and owner), by publication time."""
        query: dict[str, Any] = {"status": status}
        if tag is not None:
            query["tags"] = tag
        if owner_id is not None:
            query["owner_id"] = owner_id
        return self.page(query, order_by="published_at", limit=limit, newest_first=newest_first, after=after)

    def delete_by_owner(self, owner_id: ObjectId) -> int:
        """Delete every post of an owner; return how many there were."""
        return self.collection.delete_many({"owner_id": owner_id}).deleted_count
