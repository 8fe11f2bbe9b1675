"""A WSGI app for tests/deploy/test_gunicorn_worker.py: answers with the request's query string, after a pause
of `?sleep=S` seconds (a request waiting on something, as one waiting on MongoDB does)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Sleep if asked, then echo the query string."""
    query = environ.get("QUERY_STRING", "")
    time.sleep(float(parse_qs(query).get("sleep", ["0"])[0]))
    body = query.encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
