"""Opaque cursors for keyset pagination over (a datetime, _id)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from controller.errors import InvalidInput
from model.mongodb import Document

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def encode_cursor(*, order: str, at: datetime, last_id: ObjectId) -> str:
    """Return a cursor that resumes a listing in `order` after the item at (at, last_id)."""
    payload = json.dumps([order, int(at.timestamp() * 1000), str(last_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, order: str) -> tuple[datetime, ObjectId]:
    """Return the (at, last_id) position in a cursor made for `order`; raise InvalidInput otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        made_for, millis, last_id = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if made_for != order or not isinstance(millis, int) or isinstance(millis, bool):
            raise ValueError(cursor)
        return datetime.fromtimestamp(millis / 1000, UTC), ObjectId(last_id)
    except (ValueError, TypeError, UnicodeError, binascii.Error, InvalidId, OverflowError, OSError):
        raise InvalidInput(
            "The cursor is invalid.", code="invalid_cursor", fields={"cursor": "not a cursor from this listing"}
        ) from None


def page_response(
    documents: list[Document], *, limit: int, order: str, order_by: str, show: Callable[[Document], dict[str, Any]]
) -> dict[str, Any]:
    """Return `{"items", "next_cursor"}` from a page fetched with limit + 1 (the extra one proves a next page)."""
    items = documents[:limit]
    next_cursor = None
    if len(documents) > limit:
        last = items[-1]
        next_cursor = encode_cursor(order=order, at=last[order_by], last_id=last["_id"])
    return {"items": [show(document) for document in items], "next_cursor": next_cursor}
