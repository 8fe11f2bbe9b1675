"""What a view declares about its inputs: where each comes from, an example, and the rules it must pass.

The sources (`Json`, `Query`, `Header`, `Route`) are flask-validation-extended's, with an `example`
for the OpenAPI document. The rules check a value with the library's messages and also know their JSON
Schema (`describe`), so the document is built from the very objects that validate. The library accepts
a rule only if it derives directly from its `ValidationRule`, so each rule here does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import flask_validation_extended as fve
from flask_validation_extended import All, ValidationRule

_LENGTH_KEYS = {
    "string": ("minLength", "maxLength"),
    "array": ("minItems", "maxItems"),
    "object": ("minProperties", "maxProperties"),
}


class _Example:
    """Give a parameter source an `example`: shown in the OpenAPI document and used by "Try it out"."""

    example: Any

    def _keep_example(self, example: Any, default: Any) -> None:
        self.example = example if example is not None else default


class Json(fve.Json, _Example):  # type: ignore[misc]  # the library is untyped
    """A field of the JSON body."""

    def __init__(self, *args: Any, example: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keep_example(example, self.default)


class Query(fve.Query, _Example):  # type: ignore[misc]
    """A query-string parameter."""

    def __init__(self, *args: Any, example: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keep_example(example, self.default)


class Header(fve.Header, _Example):  # type: ignore[misc]
    """A request header (its name is case-insensitive)."""

    def __init__(self, header_name: str, *args: Any, example: Any = None, **kwargs: Any) -> None:
        super().__init__(header_name, *args, **kwargs)
        self._keep_example(example, self.default)


Route = fve.Route  # a path parameter: its converter gives its schema and example


@runtime_checkable
class DescribedRule(Protocol):
    """A rule that can add its JSON Schema keywords to a parameter's schema."""

    def describe(self, schema: dict[str, Any]) -> None: ...


def add_pattern(schema: dict[str, Any], pattern: str) -> None:
    """Add a pattern; a second one goes into allOf, since a schema holds one `pattern`."""
    if "pattern" in schema:
        schema.setdefault("allOf", []).append({"pattern": pattern})
    else:
        schema["pattern"] = pattern


def _count(number: int, value: Any) -> str:
    """Return "1 character", "200 characters", "10 items"...: the unit of a length limit for this value."""
    unit = "character" if isinstance(value, str) else "item"
    return f"{number} {unit}{'' if number == 1 else 's'}"


class MinLen(ValidationRule):  # type: ignore[misc]
    """At least `num` characters, items or keys."""

    types = (str, list, dict)

    def __init__(self, num: int) -> None:
        self.num: int = self._param_validate(num, int)

    def invalid_str(self) -> str:
        return f"must have at least {self.num} characters (text) or items (list)."

    def message_for(self, value: Any) -> str:
        """Say what is wrong with this value, in its own unit."""
        return f"must have at least {_count(self.num, value)}."

    def is_valid(self, data: Sequence[Any]) -> bool:
        return self.num <= len(data)

    def describe(self, schema: dict[str, Any]) -> None:
        schema[_LENGTH_KEYS.get(schema.get("type", ""), _LENGTH_KEYS["string"])[0]] = self.num


class MaxLen(ValidationRule):  # type: ignore[misc]
    """At most `num` characters, items or keys."""

    types = (str, list, dict)

    def __init__(self, num: int) -> None:
        self.num: int = self._param_validate(num, int)

    def invalid_str(self) -> str:
        return f"must have at most {self.num} characters (text) or items (list)."

    def message_for(self, value: Any) -> str:
        """Say what is wrong with this value, in its own unit."""
        return f"must have at most {_count(self.num, value)}."

    def is_valid(self, data: Sequence[Any]) -> bool:
        return len(data) <= self.num

    def describe(self, schema: dict[str, Any]) -> None:
        schema[_LENGTH_KEYS.get(schema.get("type", ""), _LENGTH_KEYS["string"])[1]] = self.num


class Min(ValidationRule):  # type: ignore[misc]
    """A number of at least `num`."""

    types = (int, float)

    def __init__(self, num: float) -> None:
        self.num: float = self._param_validate(num, (int, float))

    def invalid_str(self) -> str:
        return f"must be at least {self.num}."

    def is_valid(self, data: float) -> bool:
        return bool(self.num <= data)

    def describe(self, schema: dict[str, Any]) -> None:
        schema["minimum"] = self.num


class Max(ValidationRule):  # type: ignore[misc]
    """A number of at most `num`."""

    types = (int, float)

    def __init__(self, num: float) -> None:
        self.num: float = self._param_validate(num, (int, float))

    def invalid_str(self) -> str:
        return f"must be at most {self.num}."

    def is_valid(self, data: float) -> bool:
        return bool(data <= self.num)

    def describe(self, schema: dict[str, Any]) -> None:
        schema["maximum"] = self.num


class In(ValidationRule):  # type: ignore[misc]
    """One of `values`."""

    types = All

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = self._param_validate(values, (list, tuple))

    def invalid_str(self) -> str:
        return "must be one of: " + ", ".join(repr(value) for value in self.values) + "."

    def is_valid(self, data: Any) -> bool:
        return data in self.values

    def describe(self, schema: dict[str, Any]) -> None:
        schema["enum"] = list(self.values)


class Regex(ValidationRule):  # type: ignore[misc]
    """Text in which `pattern` is found (re.search)."""

    types = str

    def __init__(self, pattern: str, *, meaning: str | None = None) -> None:
        self.pattern = self._param_validate(pattern, str)
        self._compiled = re.compile(pattern)
        self.meaning = meaning  # what the pattern asks for, in words ("must not be blank")

    def invalid_str(self) -> str:
        return f"{self.meaning}." if self.meaning else f"must match the pattern {self.pattern}."

    def is_valid(self, data: str) -> bool:
        return bool(self._compiled.search(data))

    def describe(self, schema: dict[str, Any]) -> None:
        add_pattern(schema, self.pattern)


class Strip(ValidationRule):  # type: ignore[misc]
    """Text without surrounding whitespace."""

    types = str

    def invalid_str(self) -> str:
        return "must not start or end with whitespace."

    def is_valid(self, data: str) -> bool:
        return data == data.strip()

    def describe(self, schema: dict[str, Any]) -> None:
        add_pattern(schema, r"^(\S([\s\S]*\S)?)?$")


class EachMatches(ValidationRule):  # type: ignore[misc]
    """A rule for list parameters: every item is a string in which `pattern` is found (like Regex)."""

    types = list

    def __init__(self, pattern: str, *, meaning: str | None = None) -> None:
        self.pattern = re.compile(pattern)
        self.meaning = meaning  # what every item must be, in words

    def invalid_str(self) -> str:
        return f"{self.meaning}." if self.meaning else f"every item must match the pattern {self.pattern.pattern}."

    def is_valid(self, data: list[Any]) -> bool:
        return all(isinstance(item, str) and self.pattern.search(item) for item in data)

    def describe(self, schema: dict[str, Any]) -> None:
        add_pattern(schema["items"], self.pattern.pattern)
