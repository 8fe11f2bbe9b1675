"""The one token mechanism of the mailed account flows: random, single-use, stored only as a hash.

Every flow (password reset, e-mail verification, change of e-mail) issues and consumes its tokens here,
each with its `purpose`; a token of one purpose never works for another.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from pymongo.database import Database

from controller.errors import InvalidInput
from model.mongodb import AccountToken, Document, utcnow

TOKEN_BYTES = 32
INVALID_TOKEN = "invalid_or_expired_token"  # noqa: S105 (an error code, not a secret)


def digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(
    db: Database, *, purpose: str, user_id: Any, email: str, ttl: timedelta, token_version: int | None = None
) -> str:
    """Create a token for `purpose`, valid for `ttl`, and return its value (shown once, in the mail).

    A token given the account's `token_version` is only good while the account keeps that version:
    a password change (which moves it on) voids it.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    AccountToken(db).create(
        digest=digest(token),
        purpose=purpose,
        user_id=user_id,
        email=email,
        expires_at=utcnow() + ttl,
        token_version=token_version,
    )
    return token


def consume_token(db: Database, token: str, *, purpose: str) -> Document:
    """Use up a token of `purpose` and return what it was issued for.

    A used, expired, forged or other-purpose token raises the same InvalidInput.
    """
    record = AccountToken(db).consume(digest(token), purpose=purpose)
    if record is None:
        raise InvalidInput("The token is invalid, expired or already used.", code=INVALID_TOKEN)
    return record


def revoke_tokens(db: Database, user_id: Any, *, purpose: str) -> None:
    """Invalidate every outstanding token of `purpose` for a user."""
    AccountToken(db).delete_for_user(user_id, purpose=purpose)
