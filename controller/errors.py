"""The errors controllers raise; the API layer turns each into one JSON error response."""

from __future__ import annotations


class DomainError(Exception):
    """Raised when a request breaks a rule of the domain; the base of every controller error."""

    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        if code:
            self.code = code


class InvalidInput(DomainError):
    """Raised when input passes validation but the operation cannot use it."""

    code = "invalid_input"


class Unprocessable(DomainError):
    """Raised when well-formed input asks for something the domain cannot produce."""

    code = "unprocessable"


class Unauthorized(DomainError):
    """Raised when the caller's identity cannot be established."""

    code = "unauthorized"


class Forbidden(DomainError):
    """Raised when the caller is known but may not do this."""

    code = "forbidden"


class NotFound(DomainError):
    """Raised when the requested thing does not exist or is not visible to the caller."""

    code = "not_found"


class Conflict(DomainError):
    """Raised when the request conflicts with the current state, such as a duplicate key."""

    code = "conflict"
