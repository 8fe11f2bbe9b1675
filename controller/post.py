"""Posts: the rules of ownership, visibility and state for the sample resource."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from controller.auth import Identity
from controller.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from controller.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Listing, page_response
from controller.serialize import public
from model.mongodb import Document, Post, User, utcnow

# The limits are the model's; the API layer reads them from here (hence the explicit re-exports).
from model.mongodb.post import BODY_MAX_LENGTH as BODY_MAX_LENGTH
from model.mongodb.post import MAX_TAGS as MAX_TAGS
from model.mongodb.post import STATUSES as STATUSES
from model.mongodb.post import TAG_MAX_LENGTH as TAG_MAX_LENGTH
from model.mongodb.post import TITLE_MAX_LENGTH as TITLE_MAX_LENGTH

SORTS = ("newest", "oldest")
_TAG = re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{TAG_MAX_LENGTH - 1}}}")


def post_public(post: Document) -> dict[str, Any]:
    """Return a post as the API shows it, with its owner as `author_id`."""
    result = public(post, hidden=frozenset({"owner_id"}))
    result["author_id"] = post["owner_id"]
    return result


def normalize_tag(raw: str) -> str:
    """Return a tag trimmed and lower-cased; raise InvalidInput unless it is 1-30 of [a-z0-9_-]."""
    tag = raw.strip().lower()
    if not _TAG.fullmatch(tag):
        raise InvalidInput(
            "A tag is invalid.", fields={"tags": f"{raw!r} must be 1-{TAG_MAX_LENGTH} of a-z, 0-9, _ and -"}
        )
    return tag


def normalize_tags(raw: Iterable[str]) -> list[str]:
    """Return the tags normalised, without duplicates, in their first order; at most MAX_TAGS."""
    tags = list(dict.fromkeys(normalize_tag(tag) for tag in raw))
    if len(tags) > MAX_TAGS:
        raise InvalidInput("Too many tags.", fields={"tags": f"at most {MAX_TAGS} distinct tags"})
    return tags


def is_visible(post: Document, identity: Identity | None) -> bool:
    """Published posts are public; drafts are visible to their owner and to admins only."""
    if post["status"] == "published":
        return True
    return identity is not None and (identity.is_admin or identity.user_id == post["owner_id"])


def create_post(
    db: Database,
    identity: Identity,
    *,
    title: str,
    body: str,
    tags: Iterable[str] = (),
    status: str = "draft",
    post_id: ObjectId | None = None,
) -> dict[str, Any]:
    """Create a post owned by the caller; a published post gets its publication time now.

    With `post_id` (the id a retried request reserved), creating it again returns the post already made.
    """
    fields = {
        "title": _text(title, "title"),
        "body": _text(body, "body"),
        "tags": normalize_tags(tags),
        "status": _status(status),
        "owner_id": identity.user_id,
        "published_at": utcnow() if status == "published" else None,
    }
    try:
        created = Post(db).insert(fields if post_id is None else {"_id": post_id, **fields})
    except DuplicateKeyError:
        if post_id is None:
            raise
        existing = Post(db).get(post_id)
        if existing is None or existing["owner_id"] != identity.user_id:
            raise Conflict("This post id is taken.", code="id_taken") from None
        return post_public(existing)
    return post_public(_kept_while_owner_exists(db, created))


def _kept_while_owner_exists(db: Database, post: Document) -> Document:
    """Return the new post, or take it back and raise Unauthorized when its owner was deleted meanwhile.

    Deleting an account deletes the account, then its posts. A create authenticated just before could
    insert after that sweep and leave a post without an author. Checking the owner after the insert closes
    the gap: if the owner is still there, the insert came before the account's deletion, so the sweep
    that follows removes the post; if not, the post is removed here.
    """
    if User(db).get(post["owner_id"], {"_id": 1}) is None:
        Post(db).delete(post["_id"])
        raise Unauthorized("The account no longer exists.", code="invalid_token")
    return post


def get_post(db: Database, identity: Identity | None, post_id: ObjectId) -> dict[str, Any]:
    """Return a post the caller may see; a draft of someone else is NotFound, as if it did not exist."""
    return post_public(_visible_post(db, identity, post_id))


def update_post(db: Database, identity: Identity, post_id: ObjectId, **changes: Any) -> dict[str, Any]:
    """Change a post's title, body, tags or status, as its owner or an admin.

    Publishing a draft stamps `published_at`; a published post cannot go back to draft, since readers
    and other sites may already link to it.
    """
    post = _editable_post(db, identity, post_id)
    fields: dict[str, Any] = {}
    for name in ("title", "body"):
        if changes.get(name) is not None:
            fields[name] = _text(changes[name], name)
    if changes.get("tags") is not None:
        fields["tags"] = normalize_tags(changes["tags"])
    status = changes.get("status")
    if status is not None and _status(status) != post["status"]:
        if status == "draft":
            raise Conflict("A published post cannot go back to draft.", code="invalid_transition")
        fields["status"] = status
        fields["published_at"] = utcnow()
    if not fields:
        raise InvalidInput("Nothing to change: give a title, body, tags or status.", code="nothing_to_change")
    # Matching the status read above makes publishing atomic: two racing publishers cannot both stamp it.
    updated = Post(db).update(post_id, fields, where={"status": post["status"]})
    if updated is None:
        raise Conflict("The post changed while it was being updated; retry.", code="concurrent_update")
    return post_public(updated)


def delete_post(db: Database, identity: Identity, post_id: ObjectId) -> None:
    """Delete a post, as its owner or an admin."""
    _editable_post(db, identity, post_id)
    if not Post(db).delete(post_id):
        raise NotFound("The post does not exist.")


def list_posts(
    db: Database,
    *,
    cursor_key: bytes,
    tag: str | None = None,
    author_id: ObjectId | str | None = None,
    sort: str = "newest",
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> dict[str, Any]:
    """List published posts, filtered by tag or author, one keyset page at a time.

    Returns `{"items": [...], "next_cursor": str | None}`; pass `next_cursor` back for the next page.
    A cursor is signed with `cursor_key` and only valid for the same sort and filters.
    """
    if sort not in SORTS:
        raise InvalidInput("The sort is invalid.", fields={"sort": f"must be one of {', '.join(SORTS)}"})
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput("The limit is invalid.", fields={"limit": f"must be 1 to {MAX_PAGE_SIZE}"})
    tag = normalize_tag(tag) if tag is not None else None
    owner_id = _object_id(author_id, "author") if author_id is not None else None
    listing = Listing(cursor_key, sort, {"tag": tag, "author": owner_id})
    posts = Post(db).list_page(
        status="published",
        limit=limit + 1,
        newest_first=sort == "newest",
        tag=tag,
        owner_id=owner_id,
        after=listing.decode(cursor) if cursor else None,
    )
    return page_response(posts, limit=limit, listing=listing, order_by="published_at", show=post_public)


def _text(raw: str, field: str) -> str:
    """Return `raw` trimmed; raise InvalidInput when nothing is left."""
    text = raw.strip()
    if not text:
        raise InvalidInput(f"The {field} is empty.", fields={field: "must not be blank"})
    return text


def _object_id(value: ObjectId | str, field: str) -> ObjectId:
    """Return `value` as an ObjectId; raise InvalidInput naming `field` when it is not one."""
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise InvalidInput(f"The {field} is invalid.", fields={field: "must be a 24-digit hex id"}) from None


def _status(value: str) -> str:
    """Return `value` if it is a post status; raise InvalidInput otherwise."""
    if value not in STATUSES:
        raise InvalidInput("The status is invalid.", fields={"status": f"must be one of {', '.join(STATUSES)}"})
    return value


def _visible_post(db: Database, identity: Identity | None, post_id: ObjectId) -> Document:
    post = Post(db).get(post_id)
    if post is None or not is_visible(post, identity):
        raise NotFound("The post does not exist.")
    return post


def _editable_post(db: Database, identity: Identity, post_id: ObjectId) -> Document:
    """Return a post the caller may change: NotFound when invisible to them, Forbidden when not theirs."""
    post = _visible_post(db, identity, post_id)
    if not (identity.is_admin or identity.user_id == post["owner_id"]):
        raise Forbidden("Only the author or an admin may change this post.")
    return post
