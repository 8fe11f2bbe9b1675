"""The sample calculator: integer arithmetic that stays within JSON's safe integer range."""

from __future__ import annotations

from controller.errors import InvalidInput, Unprocessable

# Larger integers lose precision in JavaScript clients and in IEEE doubles.
MAX_SAFE_INTEGER = 2**53 - 1


def _checked(result: int) -> int:
    """Return `result`, or raise Unprocessable when it is outside the safe integer range."""
    if abs(result) > MAX_SAFE_INTEGER:
        raise Unprocessable(f"result is outside ±{MAX_SAFE_INTEGER}", code="out_of_range")
    return result


def add(a: int, b: int) -> int:
    """Return a + b."""
    return _checked(a + b)


def subtract(a: int, b: int) -> int:
    """Return a - b."""
    return _checked(a - b)


def multiply(a: int, b: int) -> int:
    """Return a * b."""
    return _checked(a * b)


def divide(a: int, b: int) -> int:
    """Return a // b (floor division, as Python does); dividing by zero is invalid input."""
    if b == 0:
        raise InvalidInput("division by zero", code="division_by_zero")
    return _checked(a // b)
