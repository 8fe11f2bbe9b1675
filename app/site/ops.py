"""Operational endpoints at the root: liveness, readiness and metrics."""

from __future__ import annotations

import hmac
from contextlib import suppress
from typing import Any

from flask import Blueprint, Response, current_app, request
from pymongo.errors import PyMongoError

from app.http.errors import BEARER_CHALLENGE, ApiError
from app.http.openapi import documented, object_schema
from app.services import jobs, lifecycle, metrics
from app.services.database import get_db
from controller.health import check_ready

bp = Blueprint("ops", __name__)

HEALTH = object_schema("Health", status={"const": "ok"})
READINESS = object_schema(
    "Readiness", status={"const": "ready"}, database=object_schema(ping_ms={"type": "number", "minimum": 0})
)


@bp.get("/health")
@documented(schema=HEALTH)
def get_health() -> dict[str, Any]:
    """Tell that the process is alive; touches no database, so a database outage never fails it."""
    return {"status": "ok"}


@bp.get("/ready")
@documented(schema=READINESS, errors=[503])
def get_readiness() -> dict[str, Any]:
    """Tell that the app can serve: the database answers a ping within READY_TIMEOUT_MS (else 503).

    From SIGTERM on, an instance answers 503 here while it drains (GUNICORN_DRAIN_S), so that load balancers
    stop sending it requests before it stops accepting them.
    """
    if lifecycle.is_draining():
        raise ApiError(503, "This instance is shutting down.", code="shutting_down", headers={"Retry-After": "1"})
    return check_ready(get_db(), timeout_s=current_app.config["READY_TIMEOUT_MS"] / 1000)


@bp.get("/metrics")
@documented(schema={"type": "string"}, content_type="text/plain", errors=[401, 404])
def get_metrics() -> Response:
    """Expose Prometheus metrics, summed over every gunicorn worker.

    With METRICS_TOKEN set, the scraper must send it as a bearer token; in production, where the
    metrics would otherwise be public, they stay off (404) until METRICS_TOKEN is set.
    """
    config = current_app.config
    token: str | None = config["METRICS_TOKEN"]
    if not config["METRICS_ENABLED"] or (token is None and config["ENV_NAME"] == "production"):
        raise ApiError(404, "Metrics are disabled.")
    if token is not None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise ApiError(401, "Metrics need the METRICS_TOKEN bearer token.", headers=BEARER_CHALLENGE)
    body, content_type = metrics.render()
    with suppress(PyMongoError):  # the database is away: serve the process's own metrics anyway
        body += jobs.exposition(get_db())
    return Response(body, content_type=content_type)
