"""The one wrapper around flask-validation-extended that every view uses.

Views declare their inputs the library's way (`a=Query(int, rules=[Min(0)])`) and are decorated with
`@validate`. The wrapper closes the library's gaps before they reach a client:

- a malformed JSON body is a 400 `malformed_json` (the library reads it as an empty body);
- a JSON array or scalar where an object is expected is a 400 (the library raises a 500);
- a body that is not JSON is a 415;
- fields a view does not declare are a 400, never silently ignored;
- `true` is not accepted as an integer (bool is an int in Python), nor "1_000" or non-ASCII digits;
- header names are case-insensitive;
- every failing parameter is reported at once, in the envelope's `fields`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import wraps
from inspect import signature
from typing import Any, TypeVar

from flask import current_app, request
from flask_validation_extended import All, File, Form, Header, Json, Query, Route, ValidationRule
from flask_validation_extended.params import Parameter
from flask_validation_extended.vaildator import Validator

from app.api.errors import ApiError

View = TypeVar("View", bound=Callable[..., Any])
_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")


class EachMatches(ValidationRule):  # type: ignore[misc]  # the library is untyped
    """A rule for list parameters: every item is a string in which `pattern` is found (like Regex)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    @property
    def types(self) -> type:
        return list

    def invalid_str(self) -> str:
        return f"items must match the pattern {self.pattern.pattern}"

    def is_valid(self, data: list[Any]) -> bool:
        return all(isinstance(item, str) and self.pattern.search(item) for item in data)


class _FieldError(Exception):
    """Raised by the library's error hook with its message for one parameter."""


def _raise_field_error(message: str) -> None:
    raise _FieldError(message)


_library = Validator(error_function=_raise_field_error)


def _json_object() -> dict[str, Any]:
    """Return the request body as a JSON object; an empty body is an empty object."""
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    if not request.is_json:
        raise ApiError(415, "The request body must be JSON (Content-Type: application/json).")
    try:
        body = current_app.json.loads(raw)
    except ValueError:
        raise ApiError(400, "The request body is malformed JSON.", code="malformed_json") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.", code="invalid_body")
    return body


def _precheck(name: str, param: Parameter, raw: Any) -> str | None:
    """Return an error for inputs the library would wrongly accept, else None."""
    kind = type(param).__name__
    if raw is None:
        return None
    textual_int = isinstance(raw, str) and int in param.annotation and not isinstance(param, Json)
    if textual_int and not _ASCII_INTEGER.fullmatch(raw):
        return f"In [{kind}] Params, '{name}' can't be converted to {int}."
    if isinstance(raw, bool) and bool not in param.annotation and All not in param.annotation:
        return f"In [{kind}] Params, '{name}' is not {[str(a) for a in param.annotation]}."
    return None


def validate(view: View) -> View:
    """Validate the view's declared parameters and call it with the parsed values as keyword arguments."""
    arguments = signature(view).parameters
    params: dict[str, Parameter] = {}
    for name, argument in arguments.items():
        if not isinstance(argument.default, Parameter):
            raise TypeError(f"{view.__qualname__}: parameter {name!r} must default to Route/Query/Json/Header/...")
        params[name] = argument.default
    kinds = {type(p) for p in params.values()}
    json_fields = frozenset(name for name, p in params.items() if isinstance(p, Json))

    @wraps(view)
    def wrapper(**route_args: Any) -> Any:
        inputs: dict[type, Any] = {Route: route_args, Query: request.args, Header: request.headers}
        if Json in kinds:
            inputs[Json] = _json_object()
        if Form in kinds or File in kinds:
            inputs[Form], inputs[File] = request.form, request.files
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name, param in params.items():
            source: Mapping[str, Any] = inputs[type(param)]
            key = param.header_name if isinstance(param, Header) else name
            problem = _precheck(name, param, source.get(key))
            if problem:
                errors[name] = problem
                continue
            try:
                values.update(_library.validate_parameters(inputs, {name: arguments[name]}))
            except _FieldError as exc:
                errors[name] = str(exc)
        for unknown in inputs.get(Json, {}).keys() - json_fields:
            errors[unknown] = "Unknown field."
        if errors:
            raise ApiError(400, "The request has invalid parameters.", code="validation_error", fields=errors)
        return view(**values)

    wrapper.api_params = params  # type: ignore[attr-defined]  # read by the OpenAPI generator
    return wrapper  # type: ignore[return-value]
