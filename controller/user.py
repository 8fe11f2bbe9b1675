"""Accounts: sign-up, the caller's own account (show, change, delete) and administrators.

The rules an account must follow (email, name, password) live in `controller.account_rules`.
"""

from __future__ import annotations

from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from controller.account_rules import (
    check_password_policy,
    is_active,
    normalize_email,
    normalize_name,
    user_public,
    verify_password,
)
from controller.account_token import revoke_tokens
from controller.auth import AuthSettings, Identity
from controller.errors import Conflict, Forbidden, InvalidInput, NotFound
from model.mongodb import AuditLog, Document, Post, User
from model.mongodb.user import ROLES as ROLES  # the model's; the API layer reads them from here


def signup(db: Database, auth: AuthSettings, *, email: str, password: str, name: str, role: str = "user") -> Document:
    """Create an account and return it as stored; a taken email is a Conflict."""
    email = normalize_email(email, check_deliverability=auth.check_email_deliverability)
    name = normalize_name(name)
    check_password_policy(password)
    try:
        user = User(db).create(email=email, password_hash=auth.hasher.hash(password), name=name, role=role)
    except DuplicateKeyError:
        raise Conflict("An account with this email already exists.", code="email_taken") from None
    AuditLog(db).write("user.signed_up", detail={"user_id": str(user["_id"]), "role": role}, actor=str(user["_id"]))
    return user


def get_me(db: Database, identity: Identity) -> dict[str, Any]:
    """Return the caller's account."""
    return user_public(_own_account(db, identity))


def update_me(
    db: Database,
    auth: AuthSettings,
    identity: Identity,
    *,
    name: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
) -> dict[str, Any]:
    """Change the caller's name and/or password; a new password needs the current one.

    Changing the password ends every session of the account, this one included, in the same write.
    """
    if name is None and password is None:
        raise InvalidInput("Nothing to change: give a name or a password.", code="nothing_to_change")
    users = User(db)
    user = _own_account(db, identity)
    if password is not None:
        if current_password is None:
            raise InvalidInput(
                "The current password is required to set a new one.",
                fields={"current_password": "required when changing the password"},
            )
        _check_current_password(auth, user, current_password)
        check_password_policy(password)
    updated: Document | None = user
    if name is not None:
        updated = users.set_fields(identity.user_id, name=normalize_name(name))
    if password is not None:
        updated = users.replace_password_hash(
            identity.user_id, expected=user["password_hash"], new=auth.hasher.hash(password), end_sessions=True
        )
        if updated is None:
            raise Conflict("The password changed meanwhile; sign in again.", code="concurrent_update")
        # Reset tokens are bound to the version just left behind; delete them too, not to leave them lying.
        revoke_tokens(db, identity.user_id, purpose="password_reset")
        AuditLog(db).write(
            "user.password_changed", detail={"user_id": str(identity.user_id)}, actor=str(identity.user_id)
        )
    if updated is None:
        raise NotFound("The account no longer exists.")
    return user_public(updated)


def delete_me(db: Database, auth: AuthSettings, identity: Identity, *, current_password: str) -> int:
    """Delete the caller's account and its posts, given its current password; return how many posts went.

    Every token of the account stops working at once: a token is only good while its account exists.
    """
    user = _own_account(db, identity)
    _check_current_password(auth, user, current_password)
    if not User(db).delete(identity.user_id):
        raise NotFound("The account no longer exists.")
    removed = Post(db).delete_by_owner(identity.user_id)
    AuditLog(db).write(
        "user.deleted", detail={"user_id": str(identity.user_id), "posts_deleted": removed}, actor=str(identity.user_id)
    )
    return removed


def create_admin(
    db: Database, auth: AuthSettings, *, email: str, name: str | None = None, password: str | None = None
) -> tuple[dict[str, Any], bool]:
    """Make the account with this email an admin, creating it when it does not exist.

    Returns the account and whether it was created. A new account needs a name and a password.
    """
    email = normalize_email(email)
    users = User(db)
    existing = users.find_by_email(email)
    if existing is not None:
        promoted = users.set_fields(existing["_id"], role="admin")
        if promoted is None:
            raise NotFound("The account no longer exists.")
        AuditLog(db).write("user.promoted", detail={"user_id": str(existing["_id"]), "role": "admin"})
        return user_public(promoted), False
    if name is None or password is None:
        raise InvalidInput("A new admin account needs a name and a password.")
    return user_public(signup(db, auth, email=email, password=password, name=name, role="admin")), True


def _own_account(db: Database, identity: Identity) -> Document:
    user = User(db).get(identity.user_id)
    if not is_active(user):
        raise NotFound("The account no longer exists.")
    return user


def _check_current_password(auth: AuthSettings, user: Document, current_password: str) -> None:
    if not verify_password(auth.hasher, user["password_hash"], current_password):
        raise Forbidden("The current password is incorrect.", code="wrong_password")
