"""The account rules, in one place: what a valid email, name and password are, and how accounts are shown.

Every part of the project that takes an email (sign-up, login, the per-account rate limit, the
`create-admin` command) normalises it here, so the same address is always the same key.
"""

from __future__ import annotations

import unicodedata
from typing import Any, TypeGuard

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pymongo.database import Database

from controller.errors import InvalidInput
from controller.serialize import public
from model.mongodb import Document, User

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 100
# The Unicode bidirectional controls (embeddings, overrides, isolates and marks): they make the text
# around them display in another order than it is stored, e.g. in the mails that show the name.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def normalize_email(raw: str, *, check_deliverability: bool = False) -> str:
    """Return the email trimmed, validated and lower-cased; raise InvalidInput when it is not an address.

    email-validator refuses control, bidi and other unsafe characters and normalises Unicode (NFC);
    the whole address is lower-cased so that one mailbox is one account. The deliverability check
    (a DNS query) is off unless asked for.
    """
    # Imported at the first use: most requests carry no email, and the module's tables cost every
    # worker about 0.4 MB otherwise (docs/performance.md).
    from email_validator import EmailNotValidError, validate_email

    try:
        email = validate_email(raw.strip(), check_deliverability=check_deliverability).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidInput("The email address is invalid.", fields={"email": str(error)}) from None
    if len(email) > EMAIL_MAX_LENGTH:
        raise InvalidInput("The email address is invalid.", fields={"email": f"at most {EMAIL_MAX_LENGTH} characters"})
    return email


def email_key(raw: str) -> str:
    """Return the form of an email used to look an account up: normalised, or lower-cased when invalid."""
    try:
        return normalize_email(raw)
    except InvalidInput:
        return raw.strip().lower()


def _unsafe_in_name(char: str) -> bool:
    """Tell whether a character has no place in a display name: a control (CR, LF, NUL...), a line or
    paragraph separator, a lone surrogate or a bidi control (U+202E reverses the text shown after it).

    Other format characters, such as the zero-width joiner of emoji sequences, stay allowed.
    """
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in BIDI_CONTROLS


def normalize_name(raw: str) -> str:
    """Return the display name trimmed; raise InvalidInput when nothing is left, it is too long or unsafe."""
    name = raw.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise InvalidInput("The name is invalid.", fields={"name": f"must be 1 to {NAME_MAX_LENGTH} characters"})
    if any(_unsafe_in_name(char) for char in name):
        raise InvalidInput(
            "The name is invalid.", fields={"name": "must not contain control, line-break or bidi characters"}
        )
    return name


def check_password_policy(password: str, *, field: str = "password") -> None:
    """Raise InvalidInput unless the password is 8 to 256 characters and not only spaces."""
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH or not password.strip():
        message = f"must be {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters, not only spaces"
        raise InvalidInput("The password is too weak.", fields={field: message})


def verify_password(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    """Tell whether `password` matches `password_hash`."""
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def is_active(user: Document | None) -> TypeGuard[Document]:
    """Tell whether an account exists and may act: not deleted, not disabled."""
    return user is not None and not user.get("disabled", False)


def find_account(db: Database, email: str) -> Document | None:
    """Return the account with this email (normalised here), or None."""
    return User(db).find_by_email(email_key(email))


def user_public(user: Document) -> dict[str, Any]:
    """Return a user as the API shows it: never the password hash or the token version."""
    shown = public(user, hidden=frozenset({"password_hash", "token_version", "disabled"}))
    return {**shown, "email_verified": bool(user.get("email_verified"))}
