"""The errors controllers raise; the API layer turns each into one JSON error response.

The status and default code of each class are in the one error table, `app.http.errors.ERRORS`; a
controller gives a `code` only when it names a more precise case (`email_taken`, `division_by_zero`).
"""

from __future__ import annotations


class DomainError(Exception):
    """Raised when a request breaks a rule of the domain; the base of every controller error."""

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = fields


class InvalidInput(DomainError):
    """Raised when input passes validation but the operation cannot use it."""


class Unprocessable(DomainError):
    """Raised when well-formed input asks for something the domain cannot produce."""


class Unauthorized(DomainError):
    """Raised when the caller's identity cannot be established."""


class Forbidden(DomainError):
    """Raised when the caller is known but may not do this."""


class NotFound(DomainError):
    """Raised when the requested thing does not exist or is not visible to the caller."""


class Conflict(DomainError):
    """Raised when the request conflicts with the current state, such as a duplicate key."""
