"""The caller's own account."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from app.http.inputs import Json, MaxLen, MinLen, Regex
from app.http.openapi import DATETIME, OBJECT_ID, STRING, documented, object_schema
from app.http.rate_limits import ADDRESS, TOKEN_ACCOUNT, rate_limited, without_password
from app.http.responses import no_content
from app.http.security import auth_settings, authenticated, current_identity
from app.http.validation import validate
from app.services.database import get_db
from controller import user
from controller.account_rules import NAME_MAX_LENGTH, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

bp = Blueprint("users", __name__, url_prefix="/users")

NOT_BLANK = Regex(r"\S", meaning="must not be blank")
NAME_RULES = [MinLen(1), MaxLen(NAME_MAX_LENGTH), NOT_BLANK]
PASSWORD_RULES = [MinLen(PASSWORD_MIN_LENGTH), MaxLen(PASSWORD_MAX_LENGTH), NOT_BLANK]
# Realistic values for the OpenAPI document: signing up, then logging in, with them works as filled in.
EXAMPLE_EMAIL = "ada@example.com"
EXAMPLE_PASSWORD = "correct horse battery staple"  # noqa: S105 (an example, in the public document)
EXAMPLE_NAME = "Ada Lovelace"
USER = object_schema(
    "User",
    id=OBJECT_ID,
    email=STRING,
    name=STRING,
    role={"enum": list(user.ROLES)},
    email_verified={"type": "boolean"},
    created_at=DATETIME,
    updated_at=DATETIME,
)


@bp.get("/me")
@documented(schema=USER, errors=[404])
@authenticated()
@validate
def get_me() -> dict[str, Any]:
    """Show the caller's account."""
    return user.get_me(get_db(), current_identity())


@bp.patch("/me")
@documented(schema=USER, errors=[403, 404])
@rate_limited(ADDRESS, TOKEN_ACCOUNT, exempt_when=without_password)
@authenticated()
@validate
def update_me(
    name: str | None = Json(str, optional=True, rules=NAME_RULES, example=EXAMPLE_NAME),
    password: str | None = Json(str, optional=True, rules=PASSWORD_RULES),
    current_password: str | None = Json(str, optional=True, rules=[MaxLen(PASSWORD_MAX_LENGTH)]),
) -> dict[str, Any]:
    """Change the caller's name or password.

    A new password needs the current one, and signs out every session of the account, this one included.
    Password changes are rate limited per address and, for wrong current passwords, per account.
    """
    return user.update_me(
        get_db(),
        auth_settings(),
        current_identity(),
        name=name,
        password=password,
        current_password=current_password,
    )


@bp.delete("/me")
@documented(204, errors=[403, 404])
@rate_limited(ADDRESS, TOKEN_ACCOUNT)
@authenticated()
@validate
def delete_me(
    current_password: str = Json(str, rules=[MinLen(1), MaxLen(PASSWORD_MAX_LENGTH)], example=EXAMPLE_PASSWORD),
) -> Response:
    """Delete the caller's account and all its posts; needs the current password.

    Every token of the account stops working at once. Rate limited like password changes.
    """
    user.delete_me(get_db(), auth_settings(), current_identity(), current_password=current_password)
    return no_content()
