"""Turn stored documents into the plain dicts that controllers return."""

from __future__ import annotations

from typing import Any

from model.mongodb import Document

# Internal bookkeeping that never leaves the data layer.
_HIDDEN = frozenset({"_id", "schema_version"})


def public(document: Document, *, hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Return `document` with `_id` as `id` and without internal (or `hidden`) fields."""
    result: dict[str, Any] = {"id": document["_id"]}
    for key, value in document.items():
        if key not in _HIDDEN and key not in hidden:
            result[key] = value
    return result
