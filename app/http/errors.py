"""One JSON error envelope for every error the application can answer with.

`{"error": {"status", "code", "message", "request_id"[, "fields"[, "fields_omitted"]]}}`: HTTP errors,
domain errors from the controllers, database failures and unexpected exceptions all end here. No HTML
page, no traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, cast

from flask import Flask, Response, current_app
from pymongo.errors import ConnectionFailure, PyMongoError
from werkzeug.exceptions import ClientDisconnected, HTTPException, RequestTimeout

from app.services import database
from app.services.circuit_breaker import DatabaseUnavailable
from app.services.database import SchemaOutdated
from app.services.request_id import request_id
from controller.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthorized, Unprocessable


@dataclass(frozen=True)
class ErrorKind:
    """One kind of error: its HTTP status, its default `code`, its description and the domain error raised for it."""

    status: int
    code: str
    description: str
    raised_as: type[DomainError] | None = None


DATABASE_UNAVAILABLE = ErrorKind(503, "database_unavailable", "The database is unavailable; see Retry-After.")
# The one error table. The first row of a status gives its default code and its description in the
# OpenAPI document; a domain error answers with the row of its class (or of its nearest base class).
ERRORS: tuple[ErrorKind, ...] = (
    ErrorKind(
        400,
        "bad_request",
        "Invalid input: malformed JSON, a wrong type, a broken rule or an unknown field (see `fields`).",
        DomainError,
    ),
    ErrorKind(400, "invalid_input", "Valid input that the operation cannot use.", InvalidInput),
    ErrorKind(401, "unauthorized", "Missing, invalid, expired or revoked token.", Unauthorized),
    ErrorKind(403, "forbidden", "Authenticated, but not allowed.", Forbidden),
    ErrorKind(404, "not_found", "Not found, or not visible to the caller.", NotFound),
    ErrorKind(405, "method_not_allowed", "The method is not allowed on this path."),
    ErrorKind(408, "request_timeout", "The request was not received in time."),
    ErrorKind(409, "conflict", "Conflicts with the current state.", Conflict),
    ErrorKind(413, "payload_too_large", "Request body too large."),
    ErrorKind(414, "uri_too_long", "The URL is too long."),
    ErrorKind(415, "unsupported_media_type", "The body is not JSON."),
    ErrorKind(417, "expectation_failed", "The server cannot meet the request's Expect header."),
    ErrorKind(422, "unprocessable", "Well-formed, but cannot be processed.", Unprocessable),
    ErrorKind(429, "too_many_requests", "Too many requests; see Retry-After."),
    ErrorKind(431, "request_header_fields_too_large", "The request headers are too large."),
    ErrorKind(500, "internal_error", "An unexpected error; nothing about it is revealed."),
    ErrorKind(501, "not_implemented", "The method is not implemented."),
    ErrorKind(502, "bad_gateway", "The application behind the proxy did not answer."),
    ErrorKind(503, "service_unavailable", "The service or its database is unavailable; see Retry-After."),
    DATABASE_UNAVAILABLE,
    ErrorKind(504, "gateway_timeout", "The application behind the proxy did not answer in time."),
    ErrorKind(505, "http_version_not_supported", "The HTTP version is not supported."),
)
BY_STATUS: dict[int, ErrorKind] = {kind.status: kind for kind in reversed(ERRORS)}
_BY_DOMAIN_ERROR: dict[type[DomainError], ErrorKind] = {kind.raised_as: kind for kind in ERRORS if kind.raised_as}
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
# An error lists at most this many fields, and counts the rest: a body of 80,000 unknown fields must
# not be answered with an error listing each of them (amplification).
MAX_REPORTED_FIELDS = 20
# ... and names at most this many characters of each: a client's 1 MB field name is not echoed back.
MAX_FIELD_NAME = 100


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
        self.error_code = code or default_code(status)
        self.fields = fields
        self.headers = dict(headers or {})


def _shortened(name: str) -> str:
    """Return a field name fit to echo back: cut to MAX_FIELD_NAME characters, marked when it was."""
    return name if len(name) <= MAX_FIELD_NAME else f"{name[:MAX_FIELD_NAME]}... ({len(name)} characters)"


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
        "code": code or default_code(status),
        "message": message,
        "request_id": request_id(),
    }
    if fields:
        reported = dict(islice(fields.items(), MAX_REPORTED_FIELDS))
        error["fields"] = {_shortened(name): problem for name, problem in reported.items()}
        if len(fields) > len(reported):
            error["fields_omitted"] = len(fields) - len(reported)
    response = cast(Response, current_app.json.response(error=error))
    response.status_code = status
    response.headers.update(headers)
    return response


def default_code(status: int) -> str:
    """Return the table's code for `status` ("error" for a status it does not list)."""
    kind = BY_STATUS.get(status)
    return kind.code if kind else "error"


def _handle_http(exc: HTTPException) -> Response:
    """Answer an HTTP error (404, 405, 413, ...) with the envelope, keeping headers such as Allow.

    A body that stopped arriving is a 408, not Werkzeug's 400: the server's read timed out
    (deploy/client_timeouts.py), which Werkzeug reports as a disconnected client.
    """
    if isinstance(exc, ClientDisconnected) and isinstance(exc.__context__, TimeoutError):
        exc = RequestTimeout("The request body was not received in time.")
    status = exc.code or 500
    if isinstance(exc, ApiError):
        return error_response(
            status, exc.description or "", code=exc.error_code, fields=exc.fields, headers=exc.headers
        )
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    kind = BY_STATUS.get(status)
    code = kind.code if kind else exc.name.lower().replace(" ", "_")
    return error_response(status, exc.description or exc.name, code=code, headers=headers)


def _handle_domain(exc: DomainError) -> Response:
    """Answer a controller's domain error with the status and code of its class's row in the table."""
    kind = next(_BY_DOMAIN_ERROR[cls] for cls in type(exc).__mro__ if cls in _BY_DOMAIN_ERROR)
    headers = BEARER_CHALLENGE if kind.status == 401 else {}
    return error_response(kind.status, exc.message, code=exc.code or kind.code, fields=exc.fields, headers=headers)


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
        code=DATABASE_UNAVAILABLE.code,
        headers={"Retry-After": str(retry_after)},
    )


def _handle_schema(exc: SchemaOutdated) -> Response:
    """Answer 503 while the database lacks what the code needs (logged once, at the first check)."""
    return error_response(503, str(exc), code="schema_outdated", headers={"Retry-After": "5"})


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
    app.register_error_handler(SchemaOutdated, _handle_schema)
    app.register_error_handler(Exception, _handle_unexpected)
