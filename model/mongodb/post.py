"""Blog posts: the complete sample resource."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel

from model.mongodb.base import Document, Model

STATUSES = ("draft", "published")
# Every list query filters on status (and maybe a tag or an owner) and orders by (published_at, _id).
_ORDER = [("published_at", DESCENDING), ("_id", DESCENDING)]


class Post(Model):
    """A post with a title, a body, tags, a status and an owner; drafts have no `published_at`."""

    collection_name = "posts"
    properties = {
        "title": {"bsonType": "string", "minLength": 1, "maxLength": 200},
        "body": {"bsonType": "string", "minLength": 1, "maxLength": 20000},
        "tags": {"bsonType": "array", "maxItems": 10, "items": {"bsonType": "string", "minLength": 1, "maxLength": 30}},
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
        """Return up to `limit` posts ordered by (published_at, _id), starting after the `after` position.

        Keyset pagination: the position is the sort key of the last post already seen, so every page
        costs one index seek, whatever its depth, and posts inserted meanwhile never shift the pages.
        The position is a plain range on `published_at` (index bounds on every planner) minus the posts
        at that same instant that were already seen.
        """
        query: dict[str, Any] = {"status": status}
        if tag is not None:
            query["tags"] = tag
        if owner_id is not None:
            query["owner_id"] = owner_id
        if after is not None:
            published_at, last_id = after
            up_to, seen = ("$lte", "$gte") if newest_first else ("$gte", "$lte")
            query["published_at"] = {up_to: published_at}
            query["$nor"] = [{"published_at": published_at, "_id": {seen: last_id}}]
        direction = DESCENDING if newest_first else ASCENDING
        cursor = self.collection.find(query).sort([("published_at", direction), ("_id", direction)]).limit(limit)
        return list(cursor)
