"""Safe retries of POST requests: the `Idempotency-Key` header (the one idempotency decorator).

A client sends a key of its choosing (a UUID, say) with a POST. The first request with that key runs and
its response is kept in MongoDB (`idempotency_keys`, for IDEMPOTENCY_TTL_S); a retry with the same key
and the same request (method, path, body) gets that response again, marked `Idempotent-Replayed: true`,
and writes nothing. The same key with another request is a 422; a retry while the first run still holds
the key is a 409 with Retry-After. Keys are scoped to the caller (the user of the access token, else the
client address), so no caller ever sees another's response.

Only successful responses are kept. A 4xx releases the key: the request was refused and wrote nothing,
so the client may correct it and reuse the key. A 5xx marks the key failed, so that the retry runs again.
When the outcome is unknown (the worker died, or the database went away after the write and the key
could not be updated), the key stays locked for LOCK_S and then runs again: a create that must never
run twice also takes the id of its new document from `reserved_id()`, the same on every run, so a
second run finds the first run's document instead of making another.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from bson import ObjectId
from flask import Response, current_app, g, make_response, request
from pymongo.errors import ConnectionFailure, PyMongoError
from werkzeug.exceptions import HTTPException

from app.http.errors import ApiError
from app.services.circuit_breaker import DatabaseUnavailable
from app.services.database import get_db
from controller.errors import DomainError
from model.mongodb import IdempotencyKey, utcnow

View = TypeVar("View", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_RULE = "1 to 255 printable ASCII characters, no spaces"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
# How long a run holds its key before a retry may run the request again: longer than any request lasts
# (each database operation is bounded by MONGODB_TIMEOUT_MS), short enough for a client to retry soon.
LOCK_S = 10
_REPLAYED_HEADERS = ("Content-Type", "Location")
OPENAPI_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Makes a retry safe: the same key with the same request replays the first response.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "example": "5b0c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
}


def idempotent(view: View) -> View:
    """Accept an Idempotency-Key on this POST view (place it below @authenticated and @rate_limited)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY.fullmatch(key):
            raise ApiError(400, f"The {HEADER} header is invalid.", fields={HEADER: f"must be {KEY_RULE}"})
        keys = IdempotencyKey(get_db())
        key_id = _key_id(key)
        fingerprint = _fingerprint()
        now = utcnow()
        entry, owned = keys.claim(
            key_id,
            fingerprint=fingerprint,
            locked_until=now + timedelta(seconds=LOCK_S),
            expires_at=now + timedelta(seconds=current_app.config["IDEMPOTENCY_TTL_S"]),
        )
        if entry["fingerprint"] != fingerprint:
            raise ApiError(
                422, f"This {HEADER} was used for another request; use a new key.", code="idempotency_key_reused"
            )
        if not owned:
            if entry["state"] == "done":
                return _replay(entry["response"])
            raise ApiError(
                409,
                f"A request with this {HEADER} is in progress; retry shortly.",
                code="request_in_progress",
                headers={"Retry-After": "1"},
            )
        g.idempotency_entry = entry
        try:
            response = make_response(view(*args, **kwargs))
        except (DatabaseUnavailable, ConnectionFailure):
            raise  # the database is away: the key stays locked for LOCK_S, then the request runs again
        except Exception as error:
            _settle(keys, key_id, _status_of(error))
            raise
        if response.status_code < 300:
            headers = {name: response.headers[name] for name in _REPLAYED_HEADERS if name in response.headers}
            body = response.get_data()
            keys.complete(key_id, {"status": response.status_code, "headers": headers, "body": body})
        else:
            _settle(keys, key_id, response.status_code)
        return response

    wrapper.api_idempotent = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def reserved_id() -> ObjectId | None:
    """Return the id reserved for what this request creates (the same on every retry), or None without a key."""
    entry = g.get("idempotency_entry")
    return None if entry is None else entry["resource_id"]


def _key_id(key: str) -> str:
    """Return the entry id of `key` for the current caller: a user, else a client address."""
    identity = g.get("identity")
    scope = f"user:{identity.user_id}" if identity is not None else f"address:{request.remote_addr}"
    return hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()


def _fingerprint() -> str:
    """Return a hash of what makes two requests the same: method, path with query, and body."""
    digest = hashlib.sha256(f"{request.method} {request.full_path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(stored: dict[str, Any]) -> Response:
    response = Response(bytes(stored["body"]), status=stored["status"], headers=stored["headers"])
    if "Content-Type" not in stored["headers"]:  # a 204 has none; do not add Flask's default
        del response.headers["Content-Type"]
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _status_of(error: Exception) -> int:
    if isinstance(error, DomainError):
        return 400
    if isinstance(error, HTTPException):
        return error.code or 500
    return 500


def _settle(keys: IdempotencyKey, key_id: str, status: int) -> None:
    """Release the key after a refusal (4xx); mark it failed after a server error, if the database lets us."""
    try:
        if status < 500:
            keys.release(key_id)
        else:
            keys.fail(key_id)
    except PyMongoError as error:  # the database is away: the key stays locked for LOCK_S, then runs again
        current_app.logger.warning("could not settle an idempotency key: %s", error)
