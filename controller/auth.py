"""Login, token refresh and logout: rotating JWTs bound to the account's current password.

Tokens are HS256 JWTs signed with the app's secret. Each login starts a token *family* (`fam`); each
access/refresh pair is a *session* (`sid`) within it. Refreshing consumes the session (single use),
which also ends its access token, and returns a new pair in the same family. Presenting a used
refresh token again revokes the whole family, so a stolen refresh token stops working for thief and
owner alike. Revocations live in the `revoked_tokens` collection until the tokens they cover expire.

Every token also carries the account's `token_version` (`ver`), which a password change increments in
the same write as the new hash: a token is only good while its account exists, is not disabled and
still has that version, so no token issued from a replaced password hash can ever be used.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import jwt
from argon2 import PasswordHasher
from bson import ObjectId
from bson.errors import InvalidId
from pymongo.database import Database

from controller.account_rules import email_key, is_active, verify_password
from controller.errors import Forbidden, Unauthorized
from model.mongodb import AuditLog, Document, RevokedToken, User
from model.mongodb.user import ROLES

ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "sid", "fam", "type", "role", "ver"]
INVALID_CREDENTIALS = "The email or password is incorrect."


@dataclass(frozen=True, eq=False)
class AuthSettings:
    """What the auth and account controllers need from configuration."""

    secret_key: str
    access_ttl: timedelta
    refresh_ttl: timedelta
    hasher: PasswordHasher
    require_verified_email: bool = False
    # A refresh token presented again this soon gets the pair already issued instead of ending its login.
    refresh_grace: timedelta = timedelta(seconds=30)
    check_email_deliverability: bool = False

    @cached_property
    def dummy_hash(self) -> str:
        """Return a hash to verify against when no user matches, so both failures take as long."""
        return self.hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class Identity:
    """The authenticated caller, as an access token proves it."""

    user_id: ObjectId
    role: str
    session_id: str
    family_id: str

    @property
    def is_admin(self) -> bool:
        """Tell whether the caller is an administrator."""
        return self.role == "admin"


def login(db: Database, auth: AuthSettings, *, email: str, password: str) -> dict[str, Any]:
    """Check the credentials and start a new token family; any mismatch is the same Unauthorized.

    The password is checked against the hash read first; the account is then read again, and tokens
    are issued only if that hash is still the current one (a password change meanwhile is a 401).
    """
    users = User(db)
    user = users.find_by_email(email_key(email))
    if not is_active(user):
        # Spend the time a real check takes, so that response times do not reveal which emails exist.
        verify_password(auth.hasher, auth.dummy_hash, password)
        raise Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")
    if not verify_password(auth.hasher, user["password_hash"], password):
        raise Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")
    if auth.require_verified_email and not user.get("email_verified"):
        raise Forbidden("Verify your email address first: follow the link mailed to you.", code="email_not_verified")
    if auth.hasher.check_needs_rehash(user["password_hash"]):
        # Only over the hash just verified: a password changed meanwhile is never overwritten.
        users.replace_password_hash(
            user["_id"], expected=user["password_hash"], new=auth.hasher.hash(password), end_sessions=False
        )
    current = users.get(user["_id"])
    if not is_active(current) or _version(current) != _version(user):
        raise Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")
    return _issue_tokens(auth, user, family_id=secrets.token_urlsafe(16))


def refresh(db: Database, auth: AuthSettings, *, refresh_token: str) -> dict[str, Any]:
    """Exchange a refresh token, once, for a new pair in the same family.

    The same token presented again within `auth.refresh_grace` (a client retrying after a timeout, two
    tabs refreshing at once) gets the pair already issued for it, as long as that pair's refresh token
    has not been used in turn; otherwise it is a replay and ends the family.
    """
    claims = _decode(auth, refresh_token, expected_type="refresh")
    user = _current_account(db, claims, revocation_keys=[f"fam:{claims['fam']}"])
    revocations = RevokedToken(db)
    expires_at = _revocation_expiry(auth)
    successor = {"sid": secrets.token_urlsafe(16), "iat": time.time(), "role": user["role"]}
    used = revocations.exchange(f"sid:{claims['sid']}", expires_at=expires_at, successor=successor)
    if used is None:
        return _issue_tokens(auth, user, family_id=claims["fam"], session=successor)
    # The pair already issued, but only while it is the live end of the chain: once its own refresh
    # token was used, an older token presented again is a replay, however recent.
    if (
        "successor" in used
        and datetime.now(UTC) - used["created_at"] <= auth.refresh_grace
        and not revocations.find_any([f"sid:{used['successor']['sid']}"])
    ):
        return _issue_tokens(auth, user, family_id=claims["fam"], session=used["successor"])
    # Used before, outside the grace window or behind a later rotation: a replay. End the family.
    revocations.revoke(f"fam:{claims['fam']}", expires_at=expires_at)
    # The family id names a login but is no credential; no token is ever written to the log.
    detail = {"user_id": claims["sub"], "family": claims["fam"]}
    AuditLog(db).write("auth.refresh_reuse_detected", detail=detail, actor=claims["sub"])
    raise Unauthorized("The refresh token has already been used.", code="token_revoked")


def logout(db: Database, auth: AuthSettings, identity: Identity) -> None:
    """End the caller's login: every access and refresh token of its family."""
    RevokedToken(db).revoke(f"fam:{identity.family_id}", expires_at=_revocation_expiry(auth))


def revoke_user_tokens(db: Database, auth: AuthSettings, user_id: ObjectId) -> None:
    """End every session of a user issued until now (its token version moves on)."""
    User(db).end_sessions(user_id)


def authenticate(db: Database, auth: AuthSettings, token: str) -> Identity:
    """Return the identity an access token proves; raise Unauthorized for any bad or revoked token.

    A deleted or disabled account, or a token from before the last password change, is a 401; the
    role comes from the account as it is now, not as it was at login.
    """
    claims = _decode(auth, token, expected_type="access")
    user = _current_account(db, claims, revocation_keys=[f"sid:{claims['sid']}", f"fam:{claims['fam']}"])
    return Identity(user_id=user["_id"], role=user["role"], session_id=claims["sid"], family_id=claims["fam"])


def _version(user: Document | None) -> int:
    return int((user or {}).get("token_version", 0))


def _current_account(db: Database, claims: dict[str, Any], *, revocation_keys: list[str]) -> Document:
    """Return the token's account; raise Unauthorized when a key revokes the token, or the account is gone,
    disabled or has moved on (one round trip)."""
    projection = {"role": 1, "token_version": 1, "disabled": 1}
    user, revoked = User(db).get_unless_revoked(ObjectId(claims["sub"]), projection, revocation_keys)
    if revoked:
        raise Unauthorized("The token has been revoked.", code="token_revoked")
    if user is None:
        raise Unauthorized("The account no longer exists.", code="invalid_token")
    if not is_active(user):
        raise Unauthorized("The account is disabled.", code="account_disabled")
    if _version(user) != claims["ver"]:
        raise Unauthorized("The token has been revoked.", code="token_revoked")
    return user


def _issue_tokens(
    auth: AuthSettings, user: Document, *, family_id: str, session: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Sign the pair of a new session, or of `session` (sid, iat, role) again: the same tokens, byte for byte.

    `ver` is the account's current token version: a session re-signed after a password change never
    gets this far, since its refresh token carries the old version.
    """
    if session is None:
        session = {"sid": secrets.token_urlsafe(16), "iat": time.time(), "role": user["role"]}
    now = session["iat"]
    claims = {
        "sub": str(user["_id"]),
        "role": session["role"],
        "sid": session["sid"],
        "fam": family_id,
        "ver": _version(user),
    }
    access_exp = int(now + auth.access_ttl.total_seconds())
    refresh_exp = int(now + auth.refresh_ttl.total_seconds())
    access = {**claims, "type": "access", "iat": now, "exp": access_exp}
    refresh_claims = {**claims, "type": "refresh", "iat": now, "exp": refresh_exp}
    return {
        "access_token": jwt.encode(access, auth.secret_key, algorithm=ALGORITHM),
        "refresh_token": jwt.encode(refresh_claims, auth.secret_key, algorithm=ALGORITHM),
        "token_type": "Bearer",
        "expires_in": int(auth.access_ttl.total_seconds()),
    }


def _decode(auth: AuthSettings, token: str, *, expected_type: str) -> dict[str, Any]:
    """Verify the signature, expiry, claims and type of a token; raise Unauthorized otherwise."""
    try:
        claims = jwt.decode(token, auth.secret_key, algorithms=[ALGORITHM], options={"require": _REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired.", code="token_expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("The token is invalid.", code="invalid_token") from None
    if claims["type"] != expected_type:
        article = "An" if expected_type[0] in "aeiou" else "A"
        raise Unauthorized(f"{article} {expected_type} token is required.", code="invalid_token")
    try:
        ObjectId(claims["sub"])
    except (InvalidId, TypeError):
        raise Unauthorized("The token is invalid.", code="invalid_token") from None
    well_formed = (
        claims["role"] in ROLES
        and isinstance(claims["sid"], str)
        and isinstance(claims["fam"], str)
        and isinstance(claims["iat"], int | float)
        and isinstance(claims["ver"], int)
        and not isinstance(claims["ver"], bool)
    )
    if not well_formed:
        raise Unauthorized("The token is invalid.", code="invalid_token")
    return claims


def _revocation_expiry(auth: AuthSettings) -> datetime:
    """Return when a revocation made now may be forgotten: every token it covers has expired by then."""
    return datetime.now(UTC) + auth.refresh_ttl + timedelta(minutes=1)
