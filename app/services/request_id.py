"""The current request's id: set by the middleware, read by the error envelope, logs and jobs."""

from __future__ import annotations

from flask import request

REQUEST_ID_KEY = "app.request_id"  # in the WSGI environ


def request_id() -> str:
    """Return the current request's id."""
    return str(request.environ.get(REQUEST_ID_KEY) or "")
