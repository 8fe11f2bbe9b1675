"""What every request goes through: request id, timing, security headers, metrics and the request log.

All of it happens in one WSGI middleware, with everything that depends only on configuration worked out
once, in `init_app`: the hot path is a few dictionary reads and list appends per request.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from app.services import metrics
from app.services.json_logging import log_fields
from app.services.request_id import REQUEST_ID_KEY
from app.services.request_log import RequestLogWriter

REQUEST_ID_HEADER = "X-Request-ID"
USER_ID_KEY = "app.user_id"  # set by @authenticated
# Accept an upstream id only if it is short and cannot inject anything into logs or headers.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Probes and scrapes are not worth a log line each, unless they fail.
QUIET_PATHS = frozenset({"/health", "/ready", "/metrics"})

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HSTS = "max-age=63072000; includeSubDomains"

StartResponse = Callable[..., Any]


def content_security_policy(path: str) -> str:
    """Return the CSP for a path: page policies for /, /readme and its pages and /docs; nothing allowed for the API."""
    if path in ("/", "/readme") or path.startswith("/readme/"):
        return PAGE_CSP
    if path == "/docs" or path.startswith("/docs/"):
        return DOCS_CSP
    return API_CSP


def _path(environ: dict[str, Any]) -> str:
    """Return the request path as text (WSGI hands it over as latin-1-decoded bytes)."""
    path = environ.get("PATH_INFO") or "/"
    return path if path.isascii() else path.encode("latin-1").decode("utf-8", "replace")


class RequestMiddleware:
    """Per request: an id, a start time, security headers, a metrics sample and a log line.

    It wraps the WSGI app, so it works on the environ and on the plain header list of `start_response`:
    no Headers objects, no context-local proxies, no Flask hook. `start_response` still runs inside the
    request's context, after the view, which is when the status and the matched route are known.
    """

    def __init__(
        self,
        wsgi_app: Callable[..., Iterable[bytes]],
        *,
        logger: logging.Logger,
        hsts: bool,
        log_requests: bool,
        slow_seconds: float,
        metrics_enabled: bool,
        writer: RequestLogWriter | None,
        trust_request_id: bool = False,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.logger = logger
        self.log_requests = log_requests
        self.slow_seconds = slow_seconds
        self.metrics_enabled = metrics_enabled
        self.writer = writer
        # Only a trusted proxy's id is kept; with no proxy, X-Request-ID is the client's and could spoof logs.
        self.trust_request_id = trust_request_id
        self.static_headers = [
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            *([("Strict-Transport-Security", HSTS)] if hsts else []),
        ]

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID") if self.trust_request_id else None
        # Ids need to be unique, not secret: random (reseeded in every forked worker) avoids a system call.
        rid = incoming if incoming and _VALID_REQUEST_ID.fullmatch(incoming) else f"{random.getrandbits(128):032x}"
        environ[REQUEST_ID_KEY] = rid

        def finish(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self._record(environ, int(status[:3]), time.perf_counter() - started)
            json_without_cache_policy = False
            for name, value in headers:
                lowered = name.lower()
                if lowered == "content-type":
                    json_without_cache_policy = value.startswith("application/json")
                elif lowered == "cache-control":
                    json_without_cache_policy = False
                    break
            headers.append((REQUEST_ID_HEADER, rid))
            headers.extend(self.static_headers)
            headers.append(("Content-Security-Policy", content_security_policy(environ.get("PATH_INFO", ""))))
            if json_without_cache_policy:
                headers.append(("Cache-Control", "no-store"))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, finish)

    def _record(self, environ: dict[str, Any], status: int, duration: float) -> None:
        """Count the request in the metrics, and log it (a warning when slow) unless it is a probe."""
        if self.metrics_enabled:
            rule = getattr(environ.get("werkzeug.request"), "url_rule", None)
            metrics.observe(environ["REQUEST_METHOD"], rule.rule if rule else "<unmatched>", status, duration)
        slow = duration >= self.slow_seconds
        if not (self.log_requests or slow or self.writer):
            return
        path = _path(environ)
        if path in QUIET_PATHS and status < 500 and not slow:
            return
        user_id = environ.get(USER_ID_KEY)
        fields = {
            "request_id": environ[REQUEST_ID_KEY],
            "method": environ["REQUEST_METHOD"],
            "path": path,
            "status": status,
            "duration_ms": round(duration * 1000, 2),
            "client": environ.get("REMOTE_ADDR"),
            "user_id": user_id,
        }
        if slow:
            log_fields(self.logger, logging.WARNING, "slow request", fields)
        elif self.log_requests:
            log_fields(self.logger, logging.INFO, "request", fields)
        if self.writer is not None:
            self.writer.submit(
                {"request_id": fields["request_id"], "actor": user_id or fields["client"], "detail": fields}
            )


def init_app(app: Flask) -> None:
    """Wrap `app` in the request middleware."""
    config = app.config
    mongo = app.extensions["mongo"]
    writer = RequestLogWriter(lambda: mongo.db, app.logger) if config["REQUEST_LOG_TO_DB"] else None
    app.extensions["request_log"] = writer
    app.wsgi_app = RequestMiddleware(  # type: ignore[method-assign]
        app.wsgi_app,
        logger=app.logger,
        hsts=config["ENV_NAME"] == "production",
        log_requests=config["LOG_REQUESTS"],
        slow_seconds=config["SLOW_REQUEST_MS"] / 1000,
        metrics_enabled=config["METRICS_ENABLED"],
        writer=writer,
        trust_request_id=config["PROXY_COUNT"] > 0,
    )
