"""Sign-up, login, token refresh and logout."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, url_for

from app.api.users import EXAMPLE_EMAIL, EXAMPLE_NAME, EXAMPLE_PASSWORD, NAME_RULES, PASSWORD_RULES, USER
from app.http.idempotency import idempotent
from app.http.inputs import Json, MaxLen, MinLen, Regex
from app.http.openapi import STRING, documented, object_schema
from app.http.rate_limits import ADDRESS, LOGIN_ACCOUNT, LOGIN_PAIR, rate_limited
from app.http.responses import no_content
from app.http.security import auth_settings, authenticated, current_identity
from app.http.validation import validate
from app.services.database import get_db
from app.services.jobs import get_jobs
from controller import account, auth
from controller.account_rules import EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH, user_public

bp = Blueprint("auth", __name__, url_prefix="/auth")

# The controller trims and lower-cases the address before it checks it, so surrounding spaces are fine.
EMAIL = Json(
    str,
    rules=[
        MinLen(3),
        MaxLen(EMAIL_MAX_LENGTH),
        Regex(r"^\s*[^@\s]+@[^@\s.]+(\.[^@\s.]+)+\s*$", meaning="must be an e-mail address"),
    ],
    example=EXAMPLE_EMAIL,
)
# The shape of a refresh token (not a valid one: paste the refresh_token that /auth/login answered).
EXAMPLE_REFRESH_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJ0eXAiOiJyZWZyZXNoIn0.c2lnbmF0dXJl"  # noqa: S105 (an example)
TOKEN = Json(str, rules=[MinLen(1), MaxLen(4096)], example=EXAMPLE_REFRESH_TOKEN)
TOKENS = object_schema(
    "TokenPair",
    access_token=STRING,
    refresh_token=STRING,
    token_type={"const": "Bearer"},
    expires_in={"type": "integer"},
)


@bp.post("/signup")
@documented(201, USER, errors=[409])
@rate_limited(ADDRESS)
@idempotent
@validate
def create_account(
    email: str = EMAIL,
    password: str = Json(str, rules=PASSWORD_RULES, example=EXAMPLE_PASSWORD),
    name: str = Json(str, rules=NAME_RULES, example=EXAMPLE_NAME),
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create an account and mail a link that verifies its address; the email is trimmed, lower-cased, unused."""
    created = account.register(get_db(), auth_settings(), get_jobs(), email=email, password=password, name=name)
    return user_public(created), 201, {"Location": url_for("api.users.get_me")}


@bp.post("/login")
@documented(schema=TOKENS, errors=[401, 403])
@rate_limited(ADDRESS, LOGIN_PAIR, LOGIN_ACCOUNT)
@validate
def create_tokens(
    email: str = Json(str, rules=[MaxLen(EMAIL_MAX_LENGTH)], example=EXAMPLE_EMAIL),
    password: str = Json(str, rules=[MaxLen(PASSWORD_MAX_LENGTH)], example=EXAMPLE_PASSWORD),
) -> dict[str, Any]:
    """Exchange an email and password for an access token and a refresh token.

    A wrong email and a wrong password get the same 401. Failed logins are limited per address and
    account, with a delay that grows with the failures but always ends, and per account more loosely,
    only for addresses that already failed on it: the owner signing in from elsewhere is never refused.
    """
    return auth.login(get_db(), auth_settings(), email=email, password=password)


@bp.post("/refresh")
@documented(schema=TOKENS, errors=[401])
@validate
def refresh_tokens(refresh_token: str = TOKEN) -> dict[str, Any]:
    """Exchange a refresh token, once, for a new token pair; a reused refresh token revokes its login."""
    return auth.refresh(get_db(), auth_settings(), refresh_token=refresh_token)


@bp.post("/logout")
@documented(204)
@authenticated()
@validate
def revoke_tokens() -> Response:
    """Revoke every token of the caller's login."""
    auth.logout(get_db(), auth_settings(), current_identity())
    return no_content()
