"""What every request goes through: request id, timing, security headers, metrics and the request log.

Everything that depends only on configuration is computed once in `init_app`; the two hooks do the
per-request minimum.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from flask import Flask, Response, g, request

from app import metrics
from app.request_log import RequestLogWriter

REQUEST_ID_HEADER = "X-Request-ID"
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


def content_security_policy(path: str) -> str:
    """Return the CSP for a path: page policies for /, /readme and /docs, nothing-allowed for the API."""
    if path in ("/", "/readme"):
        return PAGE_CSP
    if path == "/docs" or path.startswith("/docs/"):
        return DOCS_CSP
    return API_CSP


def init_app(app: Flask) -> None:
    """Install the per-request hooks on `app`."""
    config = app.config
    base_headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
    if config["ENV_NAME"] == "production":
        base_headers["Strict-Transport-Security"] = HSTS
    log_requests: bool = config["LOG_REQUESTS"]
    slow_seconds: float = config["SLOW_REQUEST_MS"] / 1000
    metrics_enabled: bool = config["METRICS_ENABLED"]
    logger = app.logger
    mongo = app.extensions["mongo"]
    writer = RequestLogWriter(lambda: mongo.db, logger) if config["REQUEST_LOG_TO_DB"] else None
    app.extensions["request_log"] = writer

    @app.before_request
    def start_request() -> None:
        g.started = time.perf_counter()
        incoming = request.headers.get(REQUEST_ID_HEADER)
        g.request_id = incoming if incoming and _VALID_REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()

    @app.after_request
    def finish_request(response: Response) -> Response:
        started = g.get("started")
        duration = time.perf_counter() - started if started is not None else 0.0
        request_id = g.get("request_id") or os.urandom(16).hex()
        path = request.path
        headers = response.headers
        headers[REQUEST_ID_HEADER] = request_id
        headers.update(base_headers)
        headers["Content-Security-Policy"] = content_security_policy(path)
        if response.mimetype == "application/json" and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"

        status = response.status_code
        rule = request.url_rule
        if metrics_enabled:
            metrics.observe(request.method, rule.rule if rule else "<unmatched>", status, duration)
        slow = duration >= slow_seconds
        worth_logging = slow or status >= 500 or path not in QUIET_PATHS
        if worth_logging and (log_requests or slow or writer is not None):
            _log_request(logger, writer, request_id, status, duration, slow=slow, log=log_requests)
        return response


def _log_request(
    logger: Any,
    writer: RequestLogWriter | None,
    request_id: str,
    status: int,
    duration: float,
    *,
    slow: bool,
    log: bool,
) -> None:
    """Write the request's log line (a warning when slow) and queue its record for the database."""
    identity = g.get("identity")
    user_id = str(identity.user_id) if identity is not None else None
    fields = {
        "request_id": request_id,
        "method": request.method,
        "path": request.path,
        "status": status,
        "duration_ms": round(duration * 1000, 2),
        "client": request.remote_addr,
        "user_id": user_id,
    }
    if slow:
        logger.warning("slow request", extra=fields)
    elif log:
        logger.info("request", extra=fields)
    if writer is not None:
        writer.submit({"request_id": request_id, "actor": user_id or fields["client"], "detail": fields})
