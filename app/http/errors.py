"""One JSON error envelope for every error the application can answer with.

`{"error": {"status", "code", "message", "request_id"[, "fields"]}}`: HTTP errors, domain errors from
the controllers, database failures and unexpected exceptions all end here. No HTML page, no traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from flask import Flask, Response, current_app
from pymongo.errors import ConnectionFailure, PyMongoError
from werkzeug.exceptions import HTTPException

from app.http.middleware import request_id
from app.services import database
from app.services.circuit_breaker import DatabaseUnavailable
from controller.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthorized, Unprocessable

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
    505: "http_version_not_supported",
}
DATABASE_UNAVAILABLE = "database_unavailable"
DOMAIN_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 422,
}
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class ApiError(HTTPException):
    """Raised by the API layer to answer with an error envelope of its choosing."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = status
        self.error_code = code or CODES.get(status, "error")
        self.fields = fields
        self.headers = dict(headers or {})


def error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
) -> Response:
    """Build the JSON error envelope."""
    error: dict[str, Any] = {
        "status": status,
        "code": code or CODES.get(status, "error"),
        "message": message,
        "request_id": request_id(),
    }
    if fields:
        error["fields"] = dict(fields)
    response = cast(Response, current_app.json.response(error=error))
    response.status_code = status
    response.headers.update(headers)
    return response


def _handle_http(exc: HTTPException) -> Response:
    """Answer an HTTP error (404, 405, 413, ...) with the envelope, keeping headers such as Allow."""
    status = exc.code or 500
    if isinstance(exc, ApiError):
        return error_response(
            status, exc.description or "", code=exc.error_code, fields=exc.fields, headers=exc.headers
        )
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    code = CODES.get(status) or exc.name.lower().replace(" ", "_")
    return error_response(status, exc.description or exc.name, code=code, headers=headers)


def _handle_domain(exc: DomainError) -> Response:
    """Answer a controller's domain error with the status its class stands for."""
    status = next((s for cls, s in DOMAIN_STATUS.items() if isinstance(exc, cls)), 400)
    headers = BEARER_CHALLENGE if status == 401 else {}
    return error_response(status, exc.message, code=exc.code, fields=exc.fields, headers=headers)


def _handle_database(exc: Exception) -> Response:
    """Answer 503 when the database cannot be reached in time (counted by the breaker); otherwise a 500."""
    if isinstance(exc, ConnectionFailure) or (isinstance(exc, PyMongoError) and exc.timeout):
        current_app.logger.warning("database unavailable: %s", exc)
        database.record_failure()
        return _database_unavailable(current_app.extensions["mongo"].breaker.retry_after)
    return _handle_unexpected(exc)


def _handle_breaker(exc: DatabaseUnavailable) -> Response:
    """Answer 503 at once while the database circuit breaker is open."""
    return _database_unavailable(exc.retry_after)


def _database_unavailable(retry_after: int) -> Response:
    return error_response(
        503,
        "The database is unavailable; try again shortly.",
        code=DATABASE_UNAVAILABLE,
        headers={"Retry-After": str(retry_after)},
    )


def _handle_unexpected(exc: Exception) -> Response:
    """Log the exception and answer a 500 that reveals nothing about it."""
    current_app.logger.error("unhandled exception", exc_info=exc)
    return error_response(500, "An unexpected error occurred.")


def init_app(app: Flask) -> None:
    """Make every error `app` can answer with a JSON envelope."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(DomainError, _handle_domain)
    app.register_error_handler(PyMongoError, _handle_database)
    app.register_error_handler(DatabaseUnavailable, _handle_breaker)
    app.register_error_handler(Exception, _handle_unexpected)
