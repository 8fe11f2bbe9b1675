"""The caller's own account, and administrators."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from controller.auth import (
    AuthSettings,
    Identity,
    check_password_policy,
    normalize_email,
    normalize_name,
    revoke_user_tokens,
    signup,
    user_public,
    verify_password,
)
from controller.errors import Forbidden, InvalidInput, NotFound
from model.mongodb import AuditLog, User


def get_me(db: Database, identity: Identity) -> dict[str, Any]:
    """Return the caller's account."""
    user = User(db).get(identity.user_id)
    if user is None:
        raise NotFound("The account no longer exists.")
    return user_public(user)


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

    Changing the password ends every session of the account, this one included.
    """
    if name is None and password is None:
        raise InvalidInput("Nothing to change: give a name or a password.", code="nothing_to_change")
    users = User(db)
    user = users.get(identity.user_id)
    if user is None:
        raise NotFound("The account no longer exists.")
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = normalize_name(name)
    if password is not None:
        if current_password is None:
            raise InvalidInput(
                "The current password is required to set a new one.",
                fields={"current_password": "required when changing the password"},
            )
        if not verify_password(auth, user["password_hash"], current_password):
            raise Forbidden("The current password is incorrect.", code="wrong_password")
        check_password_policy(password)
        changes["password_hash"] = auth.hasher.hash(password)
    updated = users.set_fields(identity.user_id, **changes)
    if updated is None:
        raise NotFound("The account no longer exists.")
    if password is not None:
        revoke_user_tokens(db, auth, identity.user_id)
        AuditLog(db).write("user.password_changed", detail={"user_id": str(identity.user_id)})
    return user_public(updated)


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
