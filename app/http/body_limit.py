"""MAX_CONTENT_LENGTH for bodies of unknown length (chunked transfer encoding) too.

With a Content-Length, Werkzeug refuses a body over the limit with a 413. A chunked body has no length:
Werkzeug then reads at most MAX_CONTENT_LENGTH bytes and stops, so an oversized body was silently
truncated (and a truncated JSON document can even parse). This middleware reads such a body itself, up
to one byte over the limit, and hands the app either the whole body with its length, or a body marked
as over the limit, which the app answers with its usual 413.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

READ_SIZE = 64 * 1024


class BodyLimit:
    """Buffer server-terminated (chunked) request bodies up to `max_bytes`; mark longer ones as too large."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], *, max_bytes: int) -> None:
        self.wsgi_app = wsgi_app
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # Only a chunked body the server de-chunks and terminates (gunicorn, Werkzeug); other requests
        # pass untouched, so the hot path pays one dictionary lookup.
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
            body = self._read(environ["wsgi.input"])
            if len(body) > self.max_bytes:
                body = b""  # the declared length alone makes the app answer 413
                environ["CONTENT_LENGTH"] = str(self.max_bytes + 1)
            else:
                environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = io.BytesIO(body)
            # The body is de-chunked now, with a known length (Werkzeug ignores the length of a chunked body).
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)

    def _read(self, stream: Any) -> bytes:
        """Read the stream to its end or to one byte past the limit, whichever comes first."""
        chunks: list[bytes] = []
        size = 0
        while size <= self.max_bytes:
            chunk = stream.read(min(READ_SIZE, self.max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
