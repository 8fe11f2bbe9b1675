"""Opaque, signed cursors for keyset pagination over (a datetime, _id).

A cursor is `base64url(mac || payload)`: the payload is the position (sort order, time in
milliseconds, last id) and the MAC an HMAC-SHA256, truncated to 128 bits, over the payload and the
listing's filters, keyed with a key derived from the app's secret. So a cursor is only accepted by the
listing that made it: same sort, same filters, same secret. Anything else (forged, edited, from another
sort or filter) is an InvalidInput.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from controller.errors import InvalidInput
from model.mongodb import Document

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAC_BYTES = 16


def cursor_key(secret_key: str) -> bytes:
    """Return the key cursors are signed with, derived from the app's secret (never the secret itself)."""
    return hmac.new(secret_key.encode(), b"pagination-cursor", hashlib.sha256).digest()


@dataclass(frozen=True)
class Listing:
    """What a cursor is bound to: the signing key, the sort order and the filters of one listing."""

    key: bytes
    order: str
    filters: Mapping[str, Any] = field(default_factory=dict)

    def _mac(self, payload: bytes) -> bytes:
        scope = json.dumps({k: str(v) for k, v in self.filters.items() if v is not None}, sort_keys=True)
        message = payload + b"\x00" + scope.encode()
        return hmac.new(self.key, message, hashlib.sha256).digest()[:MAC_BYTES]

    def encode(self, *, at: datetime, last_id: ObjectId) -> str:
        """Return a cursor that resumes this listing after the item at (at, last_id)."""
        payload = json.dumps([self.order, int(at.timestamp() * 1000), str(last_id)], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(self._mac(payload) + payload).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple[datetime, ObjectId]:
        """Return the (at, last_id) position of a cursor this listing made; raise InvalidInput otherwise."""
        try:
            raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii"))
            mac, payload = raw[:MAC_BYTES], raw[MAC_BYTES:]
            if not hmac.compare_digest(mac, self._mac(payload)):
                raise ValueError(cursor)
            made_for, millis, last_id = json.loads(payload)
            if made_for != self.order or not isinstance(millis, int) or isinstance(millis, bool):
                raise ValueError(cursor)
            return datetime.fromtimestamp(millis / 1000, UTC), ObjectId(last_id)
        except (ValueError, TypeError, UnicodeError, binascii.Error, InvalidId, OverflowError, OSError):
            raise InvalidInput(
                "The cursor is invalid.", code="invalid_cursor", fields={"cursor": "not a cursor from this listing"}
            ) from None


def page_response(
    documents: list[Document],
    *,
    limit: int,
    listing: Listing,
    order_by: str,
    show: Callable[[Document], dict[str, Any]],
) -> dict[str, Any]:
    """Return `{"items", "next_cursor"}` from a page fetched with limit + 1 (the extra one proves a next page)."""
    items = documents[:limit]
    next_cursor = None
    if len(documents) > limit:
        last = items[-1]
        next_cursor = listing.encode(at=last[order_by], last_id=last["_id"])
    return {"items": [show(document) for document in items], "next_cursor": next_cursor}
