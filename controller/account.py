"""Account flows that mail the user: password reset, e-mail verification and change of e-mail.

Views call these; each either queues a mail job (through a `JobQueue`, so no mail is sent inside a
request) or consumes a mailed token (see controller.account_token). A flow that mails an address a
client chooses asks `may_mail(address)` first (a limit per recipient): when it says no, the mail is
quietly not queued, and the caller's answer is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from controller.account_rules import check_password_policy, is_active, normalize_email, verify_password
from controller.account_token import INVALID_TOKEN, consume_token, revoke_tokens
from controller.auth import AuthSettings, Identity, revoke_user_tokens
from controller.errors import Conflict, Forbidden, InvalidInput, NotFound
from controller.user import signup
from model.mongodb import AuditLog, Document, User


class JobQueue(Protocol):
    """Queues a background job by name; the worker runs it later."""

    def enqueue(self, job: str, **kwargs: Any) -> None:
        """Queue `job` with these keyword arguments (JSON values)."""


def register(db: Database, auth: AuthSettings, jobs: JobQueue, *, email: str, password: str, name: str) -> Document:
    """Create an account and queue the mail that verifies its address."""
    user = signup(db, auth, email=email, password=password, name=name)
    jobs.enqueue("mail.verify_email", user_id=str(user["_id"]))
    return user


def request_password_reset(jobs: JobQueue, *, email: str, may_mail: Callable[[str], bool]) -> None:
    """Queue a reset mail for this address, unless `may_mail` refuses it.

    The request does the same work whether or not an account has the address (the worker looks it up),
    so neither the answer nor its timing tells who has an account.
    """
    email = normalize_email(email)
    if may_mail(email):
        jobs.enqueue("mail.password_reset", email=email)


def reset_password(db: Database, auth: AuthSettings, jobs: JobQueue, *, token: str, password: str) -> None:
    """Set a new password with a reset token, end every session of the account and mail a notice."""
    check_password_policy(password)  # before the token is used up, so a weak password can be retried
    record = consume_token(db, token, purpose="password_reset")
    user = _owner(db, record)
    User(db).set_fields(user["_id"], password_hash=auth.hasher.hash(password))
    revoke_tokens(db, user["_id"], purpose="password_reset")
    revoke_user_tokens(db, auth, user["_id"])
    AuditLog(db).write("user.password_reset", detail={"user_id": str(user["_id"])})
    jobs.enqueue("mail.password_changed", user_id=str(user["_id"]))


def verify_email(db: Database, *, token: str) -> None:
    """Mark the address a verification token was sent to as verified."""
    record = consume_token(db, token, purpose="verify_email")
    user = _owner(db, record)
    User(db).set_fields(user["_id"], email_verified=True)
    AuditLog(db).write("user.email_verified", detail={"user_id": str(user["_id"])})


def resend_verification(db: Database, jobs: JobQueue, identity: Identity, *, may_mail: Callable[[str], bool]) -> None:
    """Queue a new verification mail for the caller (unless `may_mail` refuses); a verified address is a Conflict."""
    user = User(db).get(identity.user_id)
    if user is None:
        raise NotFound("The account no longer exists.")
    if user.get("email_verified"):
        raise Conflict("The email address is already verified.", code="email_already_verified")
    if may_mail(user["email"]):
        jobs.enqueue("mail.verify_email", user_id=str(user["_id"]))


def request_email_change(
    db: Database,
    auth: AuthSettings,
    jobs: JobQueue,
    identity: Identity,
    *,
    email: str,
    current_password: str,
    may_mail: Callable[[str], bool],
) -> None:
    """Queue a confirmation to the new address and a notice to the current one; nothing changes yet.

    Nothing is queued when `may_mail` refuses the new address.
    """
    users = User(db)
    user = users.get(identity.user_id)
    if user is None:
        raise NotFound("The account no longer exists.")
    if not verify_password(auth.hasher, user["password_hash"], current_password):
        raise Forbidden("The current password is incorrect.", code="wrong_password")
    new_email = normalize_email(email)
    if new_email == user["email"]:
        raise InvalidInput("This is already the account's address.", fields={"email": "must differ from the current"})
    if users.find_by_email(new_email) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    if may_mail(new_email):
        jobs.enqueue("mail.change_email", user_id=str(user["_id"]), new_email=new_email)


def confirm_email_change(db: Database, *, token: str) -> None:
    """Move the account to the address the token was sent to, if that address is still free."""
    record = consume_token(db, token, purpose="change_email")
    user = _owner(db, record, same_email=False)
    try:
        User(db).set_fields(user["_id"], email=record["email"], email_verified=True)
    except DuplicateKeyError:
        raise Conflict("An account with this email already exists.", code="email_taken") from None
    revoke_tokens(db, user["_id"], purpose="change_email")
    AuditLog(db).write("user.email_changed", detail={"user_id": str(user["_id"])})


def _owner(db: Database, record: Document, *, same_email: bool = True) -> Document:
    """Return the account a token was issued for; raise InvalidInput if it is gone, disabled or changed address."""
    user = User(db).get(record["user_id"])
    # A token bound to a token version dies with it: the password changed since it was issued.
    moved_on = "token_version" in record and record["token_version"] != user.get("token_version", 0) if user else True
    if not is_active(user) or moved_on or (same_email and user["email"] != record["email"]):
        raise InvalidInput("The token is invalid, expired or already used.", code=INVALID_TOKEN)
    return user
