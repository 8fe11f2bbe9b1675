"""The one wrapper around flask-validation-extended that every view uses.

Views declare their inputs the library's way (`a=Query(int, rules=[Min(0)])`) and are decorated with
`@validate`. The declarations, types, rules and error messages are the library's. The checking loop
is this module's: it runs a plan prepared once per view (not a signature inspection per request), and it
closes the library's gaps before they reach a client:

- a malformed JSON body is a 400 `malformed_json` (the library reads it as an empty body);
- a JSON array or scalar where an object is expected is a 400 (the library raises a 500);
- a body that is not JSON is a 415;
- fields a view does not declare are a 400, never silently ignored;
- `true` is not accepted as an integer (bool is an int in Python), nor "1_000" or non-ASCII digits;
- NaN and infinity are not accepted as floats;
- header names are case-insensitive;
- every failing parameter is reported at once, in the envelope's `fields`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from inspect import signature
from typing import Any, TypeVar

from flask import current_app, request
from flask_validation_extended import All, Form, Header, Query, Route, ValidationRule
from flask_validation_extended.params import Parameter
from flask_validation_extended.types import FileObj, type_check

from app.http.errors import ApiError

View = TypeVar("View", bound=Callable[..., Any])
_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")
# Sources whose values arrive as text and are converted to the declared type.
_TEXTUAL = (Route, Query, Header, Form)
_BUILTINS = frozenset({int, float, str, bool, list, dict})


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


@dataclass(frozen=True)
class _Field:
    """One declared parameter, with everything its check needs worked out in advance."""

    name: str
    param: Parameter
    kind: str  # "Route", "Query", "Json", ...: the library's name for the source, used in messages
    key: str  # where to look: the header name for Header, else the parameter name
    annotation: tuple[Any, ...]
    target: Any  # the type text is converted to, or None when it stays text
    bool_allowed: bool
    builtins: tuple[type, ...] | None  # the annotation when it is only plain types: one isinstance suffices
    source: str  # route, query, json, header, form or file

    @classmethod
    def plan(cls, name: str, param: Parameter) -> _Field:
        annotation = tuple(param.annotation)
        first = annotation[0]
        textual = isinstance(param, _TEXTUAL) and first not in (str, All)
        return cls(
            name=name,
            param=param,
            kind=type(param).__name__,
            key=param.header_name if isinstance(param, Header) else name,
            annotation=annotation,
            target=first if textual else None,
            bool_allowed=bool in annotation or All in annotation,
            builtins=annotation if all(a in _BUILTINS for a in annotation) else None,
            source=type(param).__name__.lower(),  # route, query, json, header, form or file
        )

    def check(self, raw: Any) -> tuple[Any, str | None]:
        """Return (value, None), or (None, the library's message for what is wrong)."""
        if raw is None:
            if self.param.default is not None:
                raw = self.param.default
            elif not self.param.optional:
                what = f"Header '{self.key}'" if self.kind == "Header" else f"'{self.name}'"
                return None, f"Required [{self.kind}] parameter, {what} not given."
            else:
                return None, None
        if self.target is not None and isinstance(raw, str):
            raw = _convert(raw, self.target)
            if raw is None:
                return None, f"In [{self.kind}] Params, '{self.name}' can't be converted to {self.target}."
        elif self.annotation[0] is not FileObj and (
            not (isinstance(raw, self.builtins) if self.builtins else type_check(raw, self.annotation))
            or (isinstance(raw, bool) and not self.bool_allowed)
        ):
            return None, f"In [{self.kind}] Params, '{self.name}' is not {[str(a) for a in self.annotation]}."
        for rule in self.param.rules:
            if not rule.is_valid(raw):
                return None, f"Parameter <{self.name}>: {rule.invalid_str()}"
        return raw, None


def _convert(text: str, target: Any) -> Any:
    """Convert query/header/route/form text to `target`; None when it is not a clean value of it."""
    if target is int:
        if not _ASCII_INTEGER.fullmatch(text):
            return None
        try:
            return int(text)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            return None
    if target is float:
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    if target is bool and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return None


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


def _files(name: str) -> list[Any] | None:
    """Return the uploaded files called `name`, None when there are none (as the library does)."""
    files = request.files.getlist(name)
    return None if not files or (len(files) == 1 and files[0].filename == "") else files


def validate(view: View) -> View:
    """Validate the view's declared parameters and call it with the parsed values as keyword arguments."""
    params: dict[str, Parameter] = {}
    for name, argument in signature(view).parameters.items():
        if not isinstance(argument.default, Parameter):
            raise TypeError(f"{view.__qualname__}: parameter {name!r} must default to Route/Query/Json/Header/...")
        params[name] = argument.default
    fields = [_Field.plan(name, param) for name, param in params.items()]
    json_fields = frozenset(f.name for f in fields if f.source == "json")
    sources = {f.source for f in fields}

    @wraps(view)
    def wrapper(**route_args: Any) -> Any:
        # Each source is read once per request, and only when a parameter comes from it.
        inputs: dict[str, Any] = {"route": route_args, "json": _json_object() if json_fields else {}}
        if "query" in sources:
            inputs["query"] = request.args
        if "header" in sources:
            inputs["header"] = request.headers  # case-insensitive
        if "form" in sources:
            inputs["form"] = request.form
        body = inputs["json"]
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for field in fields:
            raw = _files(field.key) if field.source == "file" else inputs[field.source].get(field.key)
            value, problem = field.check(raw)
            if problem:
                errors[field.name] = problem
            else:
                values[field.name] = value
        if body:
            for unknown in body.keys() - json_fields:
                errors[unknown] = "Unknown field."
        if errors:
            raise ApiError(400, "The request has invalid parameters.", code="validation_error", fields=errors)
        return view(**values)

    wrapper.api_params = params  # type: ignore[attr-defined]  # read by the OpenAPI generator
    return wrapper  # type: ignore[return-value]
