"""Account flows that mail the user: password reset, e-mail verification and change of e-mail.

Each mail is sent by a background job, never inside the request; the links in it point at the frontend
(PUBLIC_BASE_URL), which posts the token back here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from app.api.auth import EMAIL
from app.api.users import EXAMPLE_PASSWORD, PASSWORD_RULES
from app.http.idempotency import idempotent
from app.http.inputs import Json, MaxLen, MinLen
from app.http.mail_limits import may_mail
from app.http.openapi import STRING, documented, object_schema
from app.http.rate_limits import ADDRESS, MAIL, TOKEN_ACCOUNT, rate_limited
from app.http.responses import no_content
from app.http.security import auth_settings, authenticated, current_identity
from app.http.validation import validate
from app.services.database import get_db
from app.services.jobs import get_jobs
from controller import account
from controller.account_rules import PASSWORD_MAX_LENGTH

bp = Blueprint("account", __name__)

# The token of a mailed link (the shape of secrets.token_urlsafe; paste the one from the mail to try it).
MAIL_TOKEN = Json(str, rules=[MinLen(1), MaxLen(4096)], example="q3Xb7TzL0v9cW2nYh5Rk8mPa1sD4fGjE6uIo0pZy2xA")

ACCEPTED = object_schema("Accepted", status={"const": "accepted"}, message=STRING)
RESET_ACCEPTED = {
    "status": "accepted",
    "message": "If an account has this address, a password-reset link is on its way.",
}


@bp.post("/auth/password-reset")
@documented(202, ACCEPTED)
@rate_limited(MAIL)
@idempotent
@validate
def request_password_reset(email: str = EMAIL) -> tuple[dict[str, Any], int]:
    """Mail a single-use password-reset link, valid one hour; the answer is the same for any address."""
    account.request_password_reset(get_jobs(), email=email, may_mail=may_mail)
    return RESET_ACCEPTED, 202


@bp.post("/auth/password-reset/confirm")
@documented(204, errors=[400])
@rate_limited(MAIL, ADDRESS)
@idempotent
@validate
def reset_password(
    token: str = MAIL_TOKEN, password: str = Json(str, rules=PASSWORD_RULES, example=EXAMPLE_PASSWORD)
) -> Response:
    """Set a new password with a mailed token; signs out every session and mails a notice."""
    account.reset_password(get_db(), auth_settings(), get_jobs(), token=token, password=password)
    return no_content()


@bp.post("/auth/verify-email")
@documented(204, errors=[400])
@rate_limited(MAIL)
@idempotent
@validate
def verify_email(token: str = MAIL_TOKEN) -> Response:
    """Mark the address the mailed token was sent to as verified."""
    account.verify_email(get_db(), token=token)
    return no_content()


@bp.post("/auth/verify-email/resend")
@documented(202, ACCEPTED, errors=[409])
@authenticated()
@rate_limited(MAIL)
@idempotent
@validate
def resend_verification() -> tuple[dict[str, Any], int]:
    """Mail the caller a new verification link."""
    account.resend_verification(get_db(), get_jobs(), current_identity(), may_mail=may_mail)
    return {"status": "accepted", "message": "A verification link is on its way."}, 202


@bp.post("/users/me/email")
@documented(202, ACCEPTED, errors=[403, 409])
@authenticated()
@rate_limited(MAIL, ADDRESS, TOKEN_ACCOUNT)
@idempotent
@validate
def request_email_change(
    email: str = EMAIL, current_password: str = Json(str, rules=[MaxLen(PASSWORD_MAX_LENGTH)], example=EXAMPLE_PASSWORD)
) -> tuple[dict[str, Any], int]:
    """Mail a confirmation link to the new address and a notice to the current one; nothing changes yet."""
    account.request_email_change(
        get_db(),
        auth_settings(),
        get_jobs(),
        current_identity(),
        email=email,
        current_password=current_password,
        may_mail=may_mail,
    )
    return {"status": "accepted", "message": "Confirm the change with the link mailed to the new address."}, 202


@bp.post("/users/me/email/confirm")
@documented(204, errors=[400, 409])
@rate_limited(MAIL)
@idempotent
@validate
def confirm_email_change(token: str = MAIL_TOKEN) -> Response:
    """Move the account to the new address with the token mailed there (409 if it was taken meanwhile)."""
    account.confirm_email_change(get_db(), token=token)
    return no_content()
