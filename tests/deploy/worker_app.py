"""A WSGI app for the worker's tests (tests/deploy/): answers with the request's query string, after a pause
of `?sleep=S` seconds (a request waiting on something, as one waiting on MongoDB does); `?read=1` reads the
request body first, `?size=N` answers N bytes instead."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Read the body and sleep if asked, then echo the query string (or send `size` bytes)."""
    query = environ.get("QUERY_STRING", "")
    asked = parse_qs(query)
    if "read" in asked:
        environ["wsgi.input"].read()
    time.sleep(float(asked.get("sleep", ["0"])[0]))
    body = b"x" * int(asked["size"][0]) if "size" in asked else query.encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
