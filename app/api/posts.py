"""Posts: the complete sample resource (create, read, update, delete, list with cursor pagination)."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from flask import Blueprint, Response
from flask_validation_extended import List

from app.http.idempotency import idempotent, reserved_id
from app.http.inputs import EachMatches, In, Json, Max, MaxLen, Min, MinLen, Query, Regex, Route
from app.http.openapi import DATETIME, OBJECT_ID, STRING, documented, object_schema
from app.http.responses import created, no_content
from app.http.security import authenticated, current_identity, cursor_key, optional_identity
from app.http.validation import validate
from app.services.database import get_db
from controller import post
from controller.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

bp = Blueprint("posts", __name__, url_prefix="/posts")

NOT_BLANK = Regex(r"\S", meaning="must not be blank")
TITLE_RULES = [MinLen(1), MaxLen(post.TITLE_MAX_LENGTH), NOT_BLANK]
BODY_RULES = [MinLen(1), MaxLen(post.BODY_MAX_LENGTH), NOT_BLANK]
# The controller trims and lower-cases each tag and then checks it.
TAG_PATTERN = rf"^\s*[A-Za-z0-9][A-Za-z0-9_-]{{0,{post.TAG_MAX_LENGTH - 1}}}\s*$"
TAG_TEXT = f"1-{post.TAG_MAX_LENGTH} letters, digits, _ or -, starting with a letter or digit"
TAGS_RULES = [MaxLen(post.MAX_TAGS), EachMatches(TAG_PATTERN, meaning=f"every tag must be {TAG_TEXT}")]
# Realistic values for the OpenAPI document, so that Swagger UI's "Try it out" works as filled in.
EXAMPLE_TITLE = "Keyset pagination with MongoDB"
EXAMPLE_BODY = "Page by (published_at, _id) instead of skip: each page is one index seek, whatever its depth."
EXAMPLE_TAGS = ["mongodb", "flask"]
EXAMPLE_AUTHOR = "66a1f0c2b3d4e5f601234567"
POST = object_schema(
    "Post",
    id=OBJECT_ID,
    title=STRING,
    body=STRING,
    tags={"type": "array", "items": STRING},
    status={"enum": list(post.STATUSES)},
    author_id=OBJECT_ID,
    published_at={"anyOf": [DATETIME, {"type": "null"}]},
    created_at=DATETIME,
    updated_at=DATETIME,
)
POST_PAGE = object_schema("PostPage", items={"type": "array", "items": POST}, next_cursor={"type": ["string", "null"]})


@bp.post("")
@documented(201, POST)
@authenticated()
@idempotent
@validate
def create_post(
    title: str = Json(str, rules=TITLE_RULES, example=EXAMPLE_TITLE),
    body: str = Json(str, rules=BODY_RULES, example=EXAMPLE_BODY),
    tags: list[str] | None = Json(List(str), optional=True, rules=TAGS_RULES, example=EXAMPLE_TAGS),
    status: str = Json(str, default="draft", rules=[In(list(post.STATUSES))], example="published"),
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create a post owned by the caller (a draft unless status is "published")."""
    identity, post_id = current_identity(), reserved_id()
    return created(
        post.create_post(get_db(), identity, title=title, body=body, tags=tags or [], status=status, post_id=post_id)
    )


@bp.get("/<objectid:post_id>")
@documented(schema=POST)
@authenticated(optional=True)
@validate
def get_post(post_id: ObjectId = Route()) -> dict[str, Any]:
    """Show a post: published ones to anyone, drafts to their author and admins."""
    return post.get_post(get_db(), optional_identity(), post_id)


@bp.patch("/<objectid:post_id>")
@documented(schema=POST, errors=[403, 409])
@authenticated()
@validate
def update_post(
    post_id: ObjectId = Route(),
    title: str | None = Json(str, optional=True, rules=TITLE_RULES, example=EXAMPLE_TITLE),
    body: str | None = Json(str, optional=True, rules=BODY_RULES, example=EXAMPLE_BODY),
    tags: list[str] | None = Json(List(str), optional=True, rules=TAGS_RULES, example=EXAMPLE_TAGS),
    status: str | None = Json(str, optional=True, rules=[In(list(post.STATUSES))], example="published"),
) -> dict[str, Any]:
    """Change a post, as its author or an admin; a published post cannot return to draft (409)."""
    return post.update_post(get_db(), current_identity(), post_id, title=title, body=body, tags=tags, status=status)


@bp.delete("/<objectid:post_id>")
@documented(204, errors=[403])
@authenticated()
@validate
def delete_post(post_id: ObjectId = Route()) -> Response:
    """Delete a post, as its author or an admin."""
    post.delete_post(get_db(), current_identity(), post_id)
    return no_content()


@bp.get("")
@documented(schema=POST_PAGE)
@validate
def list_posts(
    tag: str | None = Query(
        str,
        optional=True,
        rules=[MaxLen(post.TAG_MAX_LENGTH), Regex(TAG_PATTERN, meaning=f"must be {TAG_TEXT}")],
        example="flask",
    ),
    author: str | None = Query(
        str,
        optional=True,
        rules=[Regex("^[0-9a-fA-F]{24}$", meaning="must be a user id (24 hexadecimal digits)")],
        example=EXAMPLE_AUTHOR,
    ),
    sort: str = Query(str, default="newest", rules=[In(list(post.SORTS))]),
    limit: int = Query(int, default=DEFAULT_PAGE_SIZE, rules=[Min(1), Max(MAX_PAGE_SIZE)]),
    cursor: str | None = Query(
        str,
        optional=True,
        rules=[MaxLen(200), Regex("^[A-Za-z0-9_-]+$", meaning="must be a next_cursor value from a listing")],
    ),
) -> dict[str, Any]:
    """List published posts, newest or oldest first, filtered by tag or author, one page at a time.

    Pass `next_cursor` back as `cursor` for the next page; a cursor is signed and bound to its sort order
    and filters: any other cursor is a 400.
    """
    return post.list_posts(
        get_db(), cursor_key=cursor_key(), tag=tag, author_id=author, sort=sort, limit=limit, cursor=cursor
    )
