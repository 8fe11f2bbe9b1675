"""Sign-up, login, token refresh and logout."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for
from flask_validation_extended import Json, MaxLen, MinLen

from app.api.security import auth_settings, authenticated, current_identity, rate_limited
from app.api.validation import validate
from app.database import get_db
from controller import auth
from controller.auth import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

bp = Blueprint("auth", __name__, url_prefix="/auth")

EMAIL = Json(str, rules=[MinLen(3), MaxLen(EMAIL_MAX_LENGTH)])
PASSWORD = Json(str, rules=[MinLen(PASSWORD_MIN_LENGTH), MaxLen(PASSWORD_MAX_LENGTH)])
TOKEN = Json(str, rules=[MinLen(1), MaxLen(4096)])


@bp.post("/signup")
@rate_limited("auth")
@validate
def create_account(
    email: str = EMAIL,
    password: str = PASSWORD,
    name: str = Json(str, rules=[MinLen(1), MaxLen(NAME_MAX_LENGTH)]),
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create an account; the email is trimmed, lower-cased and must be unused."""
    user = auth.signup(get_db(), auth_settings(), email=email, password=password, name=name)
    return auth.user_public(user), 201, {"Location": url_for("api.users.get_me")}


@bp.post("/login")
@rate_limited("auth")
@validate
def create_tokens(email: str = EMAIL, password: str = Json(str, rules=[MaxLen(PASSWORD_MAX_LENGTH)])) -> dict[str, Any]:
    """Exchange an email and password for an access token and a refresh token."""
    return auth.login(get_db(), auth_settings(), email=email, password=password)


@bp.post("/refresh")
@validate
def refresh_tokens(refresh_token: str = TOKEN) -> dict[str, Any]:
    """Exchange a refresh token, once, for a new token pair."""
    return auth.refresh(get_db(), auth_settings(), refresh_token=refresh_token)


@bp.post("/logout")
@authenticated()
@validate
def revoke_tokens() -> tuple[str, int]:
    """Revoke the caller's access and refresh tokens."""
    auth.logout(get_db(), auth_settings(), current_identity())
    return "", 204
