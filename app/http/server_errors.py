"""The JSON envelope for the errors a server answers before the app sees the request.

gunicorn (a malformed request line or header) and Werkzeug's development server (a URL over 64 KB, a
bad HTTP version) answer some requests themselves, with an HTML page of their own. `gunicorn.conf.py`
and `flask run` send this instead: the app's error envelope with its security headers.
"""

from __future__ import annotations

import contextlib
import random
from http import HTTPStatus

import orjson

from app.http.errors import default_code
from app.http.middleware import API_CSP


def raw_error(status: int, reason: str = "Error") -> bytes:
    """Return a whole HTTP/1.1 answer (status line, headers, JSON body) that closes the connection."""
    with contextlib.suppress(ValueError):  # the standard phrase, whatever the server paired with the status
        reason = HTTPStatus(status).phrase
    request_id = f"{random.getrandbits(128):032x}"
    error = {"status": status, "code": default_code(status), "message": f"{reason}.", "request_id": request_id}
    body = orjson.dumps({"error": error})
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Request-ID: {request_id}\r\nX-Content-Type-Options: nosniff\r\n"
        f"Referrer-Policy: no-referrer\r\nContent-Security-Policy: {API_CSP}\r\nCache-Control: no-store\r\n\r\n"
    )
    return head.encode("latin-1") + body
