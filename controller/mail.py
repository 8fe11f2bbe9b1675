"""Mail jobs: plain functions a worker runs, each building one account mail and delivering it once.

A job gets its dependencies as arguments (the database, a `Mailer`, the `MailSettings`) and a `key`
that is the same on every delivery of the same job, so a job run twice (a retry, or a redelivery after
its worker died) sends its message once: a delivered key is recorded in `sent_mail`. Only a worker
killed between the SMTP server's acceptance and that record can send a message twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import quote

from bson import ObjectId
from pymongo.database import Database

from controller.account_rules import is_active
from controller.account_token import issue_token
from model.mongodb import SentMail, User, utcnow

SENT_MAIL_KEPT = timedelta(days=7)
PASSWORD_RESET_TTL = timedelta(hours=1)


class Mailer(Protocol):
    """Renders a mail template and sends the message (SMTP, or an .eml file in development)."""

    def send(self, *, to: str, template: str, context: Mapping[str, Any]) -> None:
        """Render `template` with `context` and deliver it to `to`; raise on failure."""


@dataclass(frozen=True)
class MailSettings:
    """What the mail jobs need from configuration."""

    app_name: str
    public_base_url: str
    verification_ttl: timedelta
    email_change_ttl: timedelta

    def link(self, page: str, token: str) -> str:
        """Return the frontend link to `page` carrying `token`."""
        return f"{self.public_base_url.rstrip('/')}/{page}?token={quote(token)}"


def _deliver(
    db: Database, mailer: Mailer, settings: MailSettings, *, key: str, to: str, template: str, **context: Any
) -> None:
    """Send one message unless the job `key` already did, then record it."""
    sent = SentMail(db)
    if sent.was_sent(key):
        return
    mailer.send(to=to, template=template, context={"app_name": settings.app_name, **context})
    sent.record(key, template=template, expires_at=utcnow() + SENT_MAIL_KEPT)


def _hours(ttl: timedelta) -> int:
    return max(1, round(ttl.total_seconds() / 3600))


def send_password_reset(db: Database, mailer: Mailer, settings: MailSettings, *, key: str, email: str) -> bool:
    """Mail a password-reset link to the active account with this address; tell whether there was one."""
    user = User(db).find_by_email(email)
    if not is_active(user) or SentMail(db).was_sent(key):  # a disabled account gets no way back in by mail
        return False
    token = issue_token(
        db, purpose="password_reset", user_id=user["_id"], email=email, ttl=PASSWORD_RESET_TTL,
        token_version=int(user.get("token_version", 0)),
    )  # fmt: skip
    link = settings.link("reset-password", token)
    _deliver(db, mailer, settings, key=key, to=email, template="password_reset", name=user["name"], link=link, hours=1)
    return True


def send_password_changed(db: Database, mailer: Mailer, settings: MailSettings, *, key: str, user_id: str) -> bool:
    """Tell an account's owner that its password was changed."""
    user = User(db).get(ObjectId(user_id))
    if user is None:
        return False
    _deliver(db, mailer, settings, key=key, to=user["email"], template="password_changed", name=user["name"])
    return True


def send_email_verification(db: Database, mailer: Mailer, settings: MailSettings, *, key: str, user_id: str) -> bool:
    """Mail a verification link to an account's address, unless it is verified already."""
    user = User(db).get(ObjectId(user_id))
    if user is None or user.get("email_verified") or SentMail(db).was_sent(key):
        return False
    ttl = settings.verification_ttl
    token = issue_token(db, purpose="verify_email", user_id=user["_id"], email=user["email"], ttl=ttl)
    link = settings.link("verify-email", token)
    _deliver(
        db, mailer, settings, key=key, to=user["email"], template="verify_email", name=user["name"], link=link,
        hours=_hours(ttl),
    )  # fmt: skip
    return True


def send_email_change(
    db: Database, mailer: Mailer, settings: MailSettings, *, key: str, user_id: str, new_email: str
) -> bool:
    """Mail a confirmation link to the new address and a notice to the current one."""
    user = User(db).get(ObjectId(user_id))
    if user is None:
        return False
    if not SentMail(db).was_sent(f"{key}:new"):
        ttl = settings.email_change_ttl
        token = issue_token(db, purpose="change_email", user_id=user["_id"], email=new_email, ttl=ttl)
        link = settings.link("confirm-email-change", token)
        _deliver(
            db, mailer, settings, key=f"{key}:new", to=new_email, template="change_email", name=user["name"],
            link=link, hours=_hours(ttl),
        )  # fmt: skip
    _deliver(
        db, mailer, settings, key=f"{key}:old", to=user["email"], template="email_change_requested",
        name=user["name"], new_email=new_email,
    )  # fmt: skip
    return True


MailJob = Callable[..., bool]
# Every mail job by the name it is queued under.
MAIL_JOBS: dict[str, MailJob] = {
    "mail.password_reset": send_password_reset,
    "mail.password_changed": send_password_changed,
    "mail.verify_email": send_email_verification,
    "mail.change_email": send_email_change,
}
