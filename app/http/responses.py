"""The shapes of successful answers that several views share."""

from __future__ import annotations

from typing import Any

from flask import Response, request


def created(item: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Answer a POST to a collection: 201, the new item, and its URL (the collection's URL + id) as Location.

    Built from the request's own URL: the same result as url_for, at a fraction of its cost.
    """
    return item, 201, {"Location": f"{request.script_root}{request.path.rstrip('/')}/{item['id']}"}


def no_content() -> Response:
    """Answer 204 No Content: no body, so no Content-Type either (Flask would label the empty body text/html)."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response
