"""Sign-up, login, token refresh and logout: Argon2id password hashes and rotating JWTs.

Tokens are HS256 JWTs signed with the app's secret. Each login starts a token *family* (`fam`); each
access/refresh pair is a *session* (`sid`) within it. Refreshing consumes the session (single use),
which also ends its access token, and returns a new pair in the same family. Presenting a used
refresh token again revokes the whole family, so a stolen refresh token stops working for thief and
owner alike. Revocations live in the `revoked_tokens` collection until the tokens they cover expire.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from bson import ObjectId
from bson.errors import InvalidId
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from controller.errors import Conflict, Forbidden, InvalidInput, Unauthorized
from controller.serialize import public
from model.mongodb import AuditLog, Document, RevokedToken, User
from model.mongodb.user import ROLES

ALGORITHM = "HS256"
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 100
# Deliberately loose: the address must have one @ and a dot in its domain; delivery proves the rest.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "sid", "fam", "type", "role"]
INVALID_CREDENTIALS = "The email or password is incorrect."


@dataclass(frozen=True, eq=False)
class AuthSettings:
    """What the auth controllers need from configuration."""

    secret_key: str
    access_ttl: timedelta
    refresh_ttl: timedelta
    hasher: PasswordHasher
    require_verified_email: bool = False
    # A refresh token presented again this soon gets the pair already issued instead of ending its login.
    refresh_grace: timedelta = timedelta(seconds=30)

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


def user_public(user: Document) -> dict[str, Any]:
    """Return a user as the API shows it: never the password hash."""
    return {**public(user, hidden=frozenset({"password_hash"})), "email_verified": bool(user.get("email_verified"))}


def normalize_email(raw: str) -> str:
    """Return the email trimmed and lower-cased; raise InvalidInput when it is not an address."""
    email = raw.strip().lower()
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.fullmatch(email):
        raise InvalidInput("The email address is invalid.", fields={"email": "must be a valid email address"})
    return email


def normalize_name(raw: str) -> str:
    """Return the display name trimmed; raise InvalidInput when nothing is left or it is too long."""
    name = raw.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise InvalidInput("The name is invalid.", fields={"name": f"must be 1 to {NAME_MAX_LENGTH} characters"})
    return name


def check_password_policy(password: str, *, field: str = "password") -> None:
    """Raise InvalidInput unless the password is 8 to 256 characters and not only spaces."""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH or not password.strip():
        message = f"must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters, not only spaces"
        raise InvalidInput("The password is too weak.", fields={field: message})


def verify_password(auth: AuthSettings, password_hash: str, password: str) -> bool:
    """Tell whether `password` matches `password_hash`."""
    try:
        return auth.hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def signup(db: Database, auth: AuthSettings, *, email: str, password: str, name: str, role: str = "user") -> Document:
    """Create an account and return it as stored; a taken email is a Conflict."""
    email = normalize_email(email)
    name = normalize_name(name)
    check_password_policy(password)
    try:
        user = User(db).create(email=email, password_hash=auth.hasher.hash(password), name=name, role=role)
    except DuplicateKeyError:
        raise Conflict("An account with this email already exists.", code="email_taken") from None
    AuditLog(db).write("user.signed_up", detail={"user_id": str(user["_id"]), "role": role})
    return user


def login(db: Database, auth: AuthSettings, *, email: str, password: str) -> dict[str, Any]:
    """Check the credentials and start a new token family; any mismatch is the same Unauthorized."""
    users = User(db)
    user = users.find_by_email(email.strip().lower())
    if user is None:
        # Spend the time a real check takes, so that response times do not reveal which emails exist.
        verify_password(auth, auth.dummy_hash, password)
        raise Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")
    if not verify_password(auth, user["password_hash"], password):
        raise Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")
    if auth.require_verified_email and not user.get("email_verified"):
        raise Forbidden("Verify your email address first: follow the link mailed to you.", code="email_not_verified")
    if auth.hasher.check_needs_rehash(user["password_hash"]):
        users.set_fields(user["_id"], password_hash=auth.hasher.hash(password))
    return _issue_tokens(auth, user, family_id=secrets.token_urlsafe(16))


def refresh(db: Database, auth: AuthSettings, *, refresh_token: str) -> dict[str, Any]:
    """Exchange a refresh token, once, for a new pair in the same family.

    The same token presented again within `auth.refresh_grace` (a client retrying after a timeout, two
    tabs refreshing at once) gets the pair already issued for it; later, it is a replay and ends the family.
    """
    claims = _decode(auth, refresh_token, expected_type="refresh")
    _ensure_not_revoked(db, claims, keys=_family_keys(claims))
    user = User(db).get(ObjectId(claims["sub"]))
    if user is None:
        raise Unauthorized("The account no longer exists.", code="invalid_token")
    revocations = RevokedToken(db)
    expires_at = _revocation_expiry(auth)
    successor = {"sid": secrets.token_urlsafe(16), "iat": time.time(), "role": user["role"]}
    used = revocations.exchange(f"sid:{claims['sid']}", expires_at=expires_at, successor=successor)
    if used is None:
        return _issue_tokens(auth, user, family_id=claims["fam"], session=successor)
    if "successor" in used and datetime.now(UTC) - used["created_at"] <= auth.refresh_grace:
        return _issue_tokens(auth, user, family_id=claims["fam"], session=used["successor"])
    # Used before, outside the grace window: a replay. End the family so that both chains die.
    revocations.revoke(f"fam:{claims['fam']}", expires_at=expires_at)
    AuditLog(db).write("auth.refresh_reuse_detected", detail={"user_id": claims["sub"], "family": claims["fam"]})
    raise Unauthorized("The refresh token has already been used.", code="token_revoked")


def logout(db: Database, auth: AuthSettings, identity: Identity) -> None:
    """End the caller's login: every access and refresh token of its family."""
    RevokedToken(db).revoke(f"fam:{identity.family_id}", expires_at=_revocation_expiry(auth))


def revoke_user_tokens(db: Database, auth: AuthSettings, user_id: ObjectId) -> None:
    """End every session of a user issued until now (after a password change)."""
    RevokedToken(db).revoke(f"user:{user_id}", expires_at=_revocation_expiry(auth), revoked_before=time.time())


def authenticate(db: Database, auth: AuthSettings, token: str) -> Identity:
    """Return the identity an access token proves; raise Unauthorized for any bad or revoked token."""
    claims = _decode(auth, token, expected_type="access")
    _ensure_not_revoked(db, claims, keys=[f"sid:{claims['sid']}", *_family_keys(claims)])
    return Identity(
        user_id=ObjectId(claims["sub"]), role=claims["role"], session_id=claims["sid"], family_id=claims["fam"]
    )


def _issue_tokens(
    auth: AuthSettings, user: Document, *, family_id: str, session: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Sign the pair of a new session, or of `session` (sid, iat, role) again: the same tokens, byte for byte."""
    # iat keeps sub-second precision so that a revocation and a new login in the same second are told apart.
    if session is None:
        session = {"sid": secrets.token_urlsafe(16), "iat": time.time(), "role": user["role"]}
    now = session["iat"]
    claims = {"sub": str(user["_id"]), "role": session["role"], "sid": session["sid"], "fam": family_id}
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
        raise Unauthorized(f"An {expected_type} token is required.", code="invalid_token")
    try:
        ObjectId(claims["sub"])
    except (InvalidId, TypeError):
        raise Unauthorized("The token is invalid.", code="invalid_token") from None
    well_formed = (
        claims["role"] in ROLES
        and isinstance(claims["sid"], str)
        and isinstance(claims["fam"], str)
        and isinstance(claims["iat"], int | float)
    )
    if not well_formed:
        raise Unauthorized("The token is invalid.", code="invalid_token")
    return claims


def _family_keys(claims: dict[str, Any]) -> list[str]:
    return [f"fam:{claims['fam']}", f"user:{claims['sub']}"]


def _ensure_not_revoked(db: Database, claims: dict[str, Any], *, keys: list[str]) -> None:
    """Raise Unauthorized when any of `keys` revokes the token (one indexed query)."""
    for revocation in RevokedToken(db).find_any(keys):
        cutoff = revocation.get("revoked_before")
        if cutoff is None or claims["iat"] <= cutoff:
            raise Unauthorized("The token has been revoked.", code="token_revoked")


def _revocation_expiry(auth: AuthSettings) -> datetime:
    """Return when a revocation made now may be forgotten: every token it covers has expired by then."""
    return datetime.now(UTC) + auth.refresh_ttl + timedelta(minutes=1)
