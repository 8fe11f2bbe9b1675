"""The caller's own account."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_validation_extended import Json, MaxLen, MinLen

from app.api.security import auth_settings, authenticated, current_identity
from app.api.validation import validate
from app.database import get_db
from controller import user
from controller.auth import NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

bp = Blueprint("users", __name__, url_prefix="/users")


@bp.get("/me")
@authenticated()
@validate
def get_me() -> dict[str, Any]:
    """Show the caller's account."""
    return user.get_me(get_db(), current_identity())


@bp.patch("/me")
@authenticated()
@validate
def update_me(
    name: str | None = Json(str, optional=True, rules=[MinLen(1), MaxLen(NAME_MAX_LENGTH)]),
    password: str | None = Json(str, optional=True, rules=[MinLen(PASSWORD_MIN_LENGTH), MaxLen(PASSWORD_MAX_LENGTH)]),
    current_password: str | None = Json(str, optional=True, rules=[MaxLen(PASSWORD_MAX_LENGTH)]),
) -> dict[str, Any]:
    """Change the caller's name or password; a new password needs the current one and signs out every session."""
    return user.update_me(
        get_db(),
        auth_settings(),
        current_identity(),
        name=name,
        password=password,
        current_password=current_password,
    )
