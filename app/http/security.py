"""Authentication for views: the auth settings and the one auth decorator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from argon2 import PasswordHasher
from flask import Flask, current_app, g, request

from app.http.errors import BEARER_CHALLENGE, ApiError
from app.http.middleware import USER_ID_KEY
from app.services.database import get_db
from controller import pagination
from controller.auth import AuthSettings, Identity, authenticate
from controller.errors import Forbidden

View = TypeVar("View", bound=Callable[..., Any])
MAX_TOKEN_LENGTH = 4096


def init_app(app: Flask) -> None:
    """Build the auth settings and the cursor key from the app's config."""
    config = app.config
    app.extensions["auth"] = AuthSettings(
        secret_key=config["SECRET_KEY"] or "",
        access_ttl=timedelta(seconds=config["ACCESS_TOKEN_TTL_S"]),
        refresh_ttl=timedelta(seconds=config["REFRESH_TOKEN_TTL_S"]),
        refresh_grace=timedelta(seconds=config["REFRESH_REUSE_GRACE_S"]),
        hasher=PasswordHasher(
            time_cost=config["PASSWORD_HASH_TIME_COST"],
            memory_cost=config["PASSWORD_HASH_MEMORY_KIB"],
            parallelism=config["PASSWORD_HASH_PARALLELISM"],
        ),
        require_verified_email=config["REQUIRE_VERIFIED_EMAIL"],
        check_email_deliverability=config["EMAIL_CHECK_DELIVERABILITY"],
    )
    app.extensions["cursor_key"] = pagination.cursor_key(config["SECRET_KEY"] or "")


def cursor_key() -> bytes:
    """Return the key that signs the current app's pagination cursors."""
    key: bytes = current_app.extensions["cursor_key"]
    return key


def auth_settings() -> AuthSettings:
    """Return the current app's auth settings."""
    settings: AuthSettings = current_app.extensions["auth"]
    return settings


def current_identity() -> Identity:
    """Return the caller's identity in a view protected by @authenticated()."""
    identity: Identity | None = g.get("identity")
    if identity is None:
        raise RuntimeError("current_identity() needs a view decorated with @authenticated()")
    return identity


def optional_identity() -> Identity | None:
    """Return the caller's identity in an @authenticated(optional=True) view, or None for anonymous."""
    identity: Identity | None = g.get("identity")
    return identity


def _bearer_token() -> str | None:
    """Return the token of an `Authorization: Bearer` header, None when there is no header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise ApiError(
            401, "Use an Authorization: Bearer <access token> header.", code="invalid_token", headers=BEARER_CHALLENGE
        )
    return token


def authenticated(*, role: str | None = None, optional: bool = False) -> Callable[[View], View]:
    """Require a valid access token (of `role`, when given); with `optional`, anonymous callers pass too."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _bearer_token()
            if token is None:
                if not optional:
                    raise ApiError(401, "Authentication is required.", code="missing_token", headers=BEARER_CHALLENGE)
                g.identity = None
            else:
                identity = g.identity = authenticate(get_db(), auth_settings(), token)
                request.environ[USER_ID_KEY] = str(identity.user_id)  # for the request log
                if role is not None and identity.role != role:
                    raise Forbidden(f"This needs the {role} role.", code="insufficient_role")
            return view(*args, **kwargs)

        wrapper.api_auth = {"role": role, "optional": optional}  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
