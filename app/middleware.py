"""Per-request hooks that every response goes through."""

from __future__ import annotations

import os
import re

from flask import Flask, Response, g, request

REQUEST_ID_HEADER = "X-Request-ID"
# Accept an upstream id only if it is short and cannot inject anything into logs or headers.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def _start_request() -> None:
    """Adopt the caller's request id when it is valid, else make one."""
    incoming = request.headers.get(REQUEST_ID_HEADER)
    g.request_id = incoming if incoming and _VALID_REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()


def _finish_request(response: Response) -> Response:
    """Echo the request id on the response."""
    response.headers[REQUEST_ID_HEADER] = g.get("request_id") or os.urandom(16).hex()
    return response


def init_app(app: Flask) -> None:
    """Install the hooks on `app`."""
    app.before_request(_start_request)
    app.after_request(_finish_request)
