"""The parameter plan of a view: worked out once from its declarations, then used to check and to document.

`plan_view(view)` reads the view's signature once. Each `Field` knows where its value comes from, how to
convert and check it (the library's types, rules and messages), and its JSON Schema and example for the
OpenAPI document. `@validate` checks requests with the plan; the OpenAPI generator documents it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from inspect import signature
from typing import Any

from flask_validation_extended import All, Dict, File, Form, Header, Json, List, Query, Route
from flask_validation_extended.params import Parameter
from flask_validation_extended.types import FileObj, type_check

from app.http.inputs import DescribedRule

_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")
# Sources whose values arrive as text and are converted to the declared type.
_TEXTUAL = (Route, Query, Header, Form)
_SOURCES = (Route, Query, Header, Form, Json, File)
_BUILTINS = frozenset({int, float, str, bool, list, dict})
_JSON_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean", list: "array", dict: "object"}


@dataclass(frozen=True)
class Field:
    """One declared parameter, with everything its check and its documentation need worked out in advance."""

    name: str
    param: Parameter
    kind: str  # "Route", "Query", "Json", ...: the library's name for the source, used in messages
    key: str  # where to look: the header name for Header, else the parameter name
    source: str  # route, query, json, header, form or file
    annotation: tuple[Any, ...]
    target: Any  # the type text is converted to, or None when it stays text
    bool_allowed: bool
    builtins: tuple[type, ...] | None  # the annotation when it is only plain types: one isinstance suffices
    required: bool  # neither optional nor defaulted
    schema: dict[str, Any]  # its JSON Schema: type(s), default and rules
    example: Any  # None when the declaration gives none

    @classmethod
    def plan(cls, name: str, param: Parameter) -> Field:
        """Work out the field of parameter `name` declared as `param`."""
        annotation = tuple(param.annotation)
        first = annotation[0]
        textual = isinstance(param, _TEXTUAL) and first not in (str, All)
        return cls(
            name=name,
            param=param,
            kind=type(param).__name__,
            key=param.header_name if isinstance(param, Header) else name,
            source=_source(param),
            annotation=annotation,
            target=first if textual else None,
            bool_allowed=bool in annotation or All in annotation,
            builtins=annotation if all(a in _BUILTINS for a in annotation) else None,
            required=not param.optional and param.default is None,
            schema=_param_schema(param),
            example=getattr(param, "example", None),  # the app's sources have one; the library's do not
        )

    def check(self, raw: Any) -> tuple[Any, str | None]:
        """Return (value, None), or (None, the library's message for what is wrong)."""
        if raw is None:
            if self.param.default is not None:
                raw = self.param.default
            elif not self.param.optional:
                return None, f"Required {_WHERE[self.source].format(key=self.key)}; not given."
            else:
                return None, None
        if self.target is not None and isinstance(raw, str):
            raw = _convert(raw, self.target)
            if raw is None:
                return None, f"Must be {_kind(self.schema)}."
        elif self.annotation[0] is not FileObj and (
            not (isinstance(raw, self.builtins) if self.builtins else type_check(raw, self.annotation))
            or (isinstance(raw, bool) and not self.bool_allowed)
        ):
            return None, f"Must be {_kind(self.schema)}."
        for rule in self.param.rules:
            if not rule.is_valid(raw):
                message: str = rule.message_for(raw) if hasattr(rule, "message_for") else rule.invalid_str()
                return None, message[:1].upper() + message[1:]
        return raw, None


_WHERE = {
    "route": "in the path",
    "query": "as a query parameter",
    "header": "as the header {key}",
    "json": "in the JSON body",
    "form": "as a form field",
    "file": "as an uploaded file",
}
_KINDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "null": "null",
}


def _kind(schema: dict[str, Any]) -> str:
    """Say in words what a JSON Schema type allows: "an integer", "an array of strings"..."""
    if "anyOf" in schema:
        return " or ".join(_kind(option) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return "an array" + (f" of {_plural(schema['items'])}" if schema.get("items") else "")
    return _KINDS.get(schema.get("type", ""), "anything")


def _plural(schema: dict[str, Any]) -> str:
    """Say in words what the items of an array may be: "strings", "integers or numbers"..."""
    if "anyOf" in schema:
        return " or ".join(_plural(option) for option in schema["anyOf"])
    return f"{schema.get('type', 'value')}s"


def plan_view(view: Callable[..., Any]) -> list[Field]:
    """Return the fields of a view whose every argument defaults to a parameter declaration."""
    fields: list[Field] = []
    for name, argument in signature(view).parameters.items():
        if not isinstance(argument.default, Parameter):
            raise TypeError(f"{view.__qualname__}: parameter {name!r} must default to Route/Query/Json/Header/...")
        fields.append(Field.plan(name, argument.default))
    return fields


def _source(param: Parameter) -> str:
    """Return route, query, header, form, json or file: which of the library's sources `param` is."""
    return str(next(source.__name__.lower() for source in _SOURCES if isinstance(param, source)))


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


def _param_schema(param: Parameter) -> dict[str, Any]:
    """Describe one declared parameter: its type(s), default and rules."""
    annotations = list(param.annotation)
    schema: dict[str, Any] = (
        _type_schema(annotations[0]) if len(annotations) == 1 else {"anyOf": [_type_schema(a) for a in annotations]}
    )
    if param.default is not None:
        schema["default"] = param.default
    for rule in param.rules:
        if isinstance(rule, DescribedRule):
            rule.describe(schema)
        else:  # a rule of the library's own, which cannot say more than its message
            schema["description"] = f"{schema.get('description', '')} Value {rule.invalid_str()}".strip()
    return schema


def _type_schema(annotation: Any) -> dict[str, Any]:
    if annotation is All:
        return {}
    if isinstance(annotation, Dict):  # a subclass of List: test it first
        return {"type": "object", "additionalProperties": _item_schema(annotation.item)}
    if isinstance(annotation, List):
        return {"type": "array", "items": _item_schema(annotation.item)}
    return {"type": _JSON_TYPES[annotation]}


def _item_schema(item: Any) -> dict[str, Any]:
    if isinstance(item, list | tuple):
        return {"anyOf": [_type_schema(i) for i in item]}
    return _type_schema(item)
