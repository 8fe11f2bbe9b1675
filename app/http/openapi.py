"""The OpenAPI 3.1 document, generated from the code that already describes each endpoint.

For every URL rule it reads the methods, the path converters, the flask-validation-extended parameters
that `@validate` recorded (types, defaults, optional flags, rules), the auth and rate-limit marks of
`@authenticated` and `@rate_limited`, the docstring, and what `@documented` says of the success response.
The error responses follow from those (400 for any input, 401 with auth, 404 with a path id, ...), and
every operation also documents the error envelope as its default response. Nothing else is written by
hand: adding a view adds it to the document.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask
from flask_validation_extended import (
    All,
    Dict,
    Email,
    Header,
    In,
    IsoDatetime,
    Json,
    List,
    Max,
    MaxLen,
    Min,
    MinLen,
    Number,
    Regex,
    Route,
    Strip,
)
from flask_validation_extended.params import Parameter

from app.http import idempotency
from app.http.errors import BY_STATUS
from app.http.validation import EachMatches

View = TypeVar("View", bound=Callable[..., Any])

OBJECT_ID = {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}
DATETIME = {"type": "string", "format": "date-time"}
STRING = {"type": "string"}


def object_schema(name: str | None = None, /, **properties: Any) -> dict[str, Any]:
    """Return a closed object schema: these properties, all required, and no others.

    A `name` makes it a named component of the document (and a `$ref` wherever it is used).
    """
    schema: dict[str, Any] = {"title": name} if name else {}
    schema.update(type="object", required=list(properties), additionalProperties=False, properties=properties)
    return schema


_ERROR_BODY = object_schema(status={"type": "integer"}, code=STRING, message=STRING, request_id=STRING)
_ERROR_BODY["properties"]["fields"] = {"type": "object", "additionalProperties": STRING}  # optional
ERROR_SCHEMA = object_schema("Error", error=_ERROR_BODY)
_JSON_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean", list: "array", dict: "object"}
_LENGTH_KEYS = {
    "string": ("minLength", "maxLength"),
    "array": ("minItems", "maxItems"),
    "object": ("minProperties", "maxProperties"),
}
_CONVERTERS = {"objectid": OBJECT_ID, "int": {"type": "integer"}, "float": {"type": "number"}}
_RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def documented(
    status: int = 200,
    schema: dict[str, Any] | None = None,
    *,
    errors: Iterable[int] = (),
    content_type: str = "application/json",
    hidden: bool = False,
) -> Callable[[View], View]:
    """Describe a view's success response (status, schema) and the domain errors it can raise.

    A schema with a "title" becomes a named component. `hidden` leaves the view out of the document.
    """

    def decorator(view: View) -> View:
        view.api_doc = {  # type: ignore[attr-defined]
            "status": status,
            "schema": schema,
            "errors": tuple(errors),
            "content_type": content_type,
            "hidden": hidden,
        }
        return view

    return decorator


def build_openapi(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every route of `app`."""
    from app import __version__  # app/__init__ imports this module first

    components: dict[str, Any] = {"Error": _strip_title(ERROR_SCHEMA)}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "api_doc", {})
        if doc.get("hidden") or rule.endpoint == "static":  # pages and files, not API operations
            continue
        path, path_params = _path(rule.rule)
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for method in methods:
            operation_id = rule.endpoint if len(methods) == 1 else f"{rule.endpoint}.{method.lower()}"
            paths.setdefault(path, {})[method.lower()] = _operation(view, doc, path_params, operation_id, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": app.config["APP_NAME"],
            "version": __version__,
            "description": "Every error is the JSON envelope `Error`; every response carries `X-Request-ID`.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _operation(
    view: Callable[..., Any],
    doc: dict[str, Any],
    path_params: dict[str, dict[str, Any]],
    operation_id: str,
    components: dict[str, Any],
) -> dict[str, Any]:
    params: dict[str, Parameter] = getattr(view, "api_params", {})
    auth: dict[str, Any] | None = getattr(view, "api_auth", None)
    summary, _, description = inspect.cleandoc(view.__doc__ or "").partition("\n")
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [operation_id.split(".")[-2] if "." in operation_id else operation_id],
    }
    if description.strip():
        operation["description"] = description.strip()

    parameters = [
        {"name": name, "in": "path", "required": True, "schema": schema} for name, schema in path_params.items()
    ]
    body: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
    for name, param in params.items():
        if isinstance(param, Route):
            continue
        schema = _param_schema(param)
        if isinstance(param, Json):
            if not _required(param):  # the validator reads null as "not given"
                schema = {"anyOf": [schema, {"type": "null"}]}
            body["properties"][name] = schema
            if _required(param):
                body.setdefault("required", []).append(name)
        else:
            location = "header" if isinstance(param, Header) else "query"
            key = param.header_name if isinstance(param, Header) else name
            parameters.append({"name": key, "in": location, "required": _required(param), "schema": schema})
    if getattr(view, "api_idempotent", False):
        parameters.append(idempotency.OPENAPI_PARAMETER)
    if parameters:
        operation["parameters"] = parameters
    if body["properties"]:
        operation["requestBody"] = {"required": "required" in body, "content": {"application/json": {"schema": body}}}

    errors = set(doc.get("errors", ()))
    if getattr(view, "api_idempotent", False):
        errors |= {409, 422}  # a retry while the first run holds the key; the key reused for another request
    if params or path_params:
        errors.add(400)
    if path_params:
        errors.add(404)
    if body["properties"]:
        errors |= {413, 415}
    if getattr(view, "api_rate_limit", None):
        errors.add(429)
    if auth is not None:
        errors.add(401)
        if auth["role"]:
            errors.add(403)
        operation["security"] = [{}, {"bearerAuth": []}] if auth["optional"] else [{"bearerAuth": []}]
    else:
        operation["security"] = []

    status = doc.get("status", 200)
    responses: dict[str, Any] = {str(status): _success(status, doc, components)}
    for code in sorted(errors):
        responses[str(code)] = _error_response(BY_STATUS[code].description)
    responses["default"] = _error_response("Any other error (405, 500, 503, ...), as the error envelope.")
    operation["responses"] = responses
    return operation


def _success(status: int, doc: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    if status == 204:
        return {"description": "No content."}
    schema = _named(doc.get("schema") or {}, components)
    return {"description": "Success.", "content": {doc.get("content_type", "application/json"): {"schema": schema}}}


def _named(schema: Any, components: dict[str, Any]) -> Any:
    """Move every schema with a "title" (nested ones too) into the components and refer to it."""
    if isinstance(schema, list):
        return [_named(item, components) for item in schema]
    if not isinstance(schema, dict):
        return schema
    inner = {key: _named(value, components) for key, value in schema.items()}
    if not isinstance(inner.get("title"), str):  # a property called "title" is a dict, not a name
        return inner
    components[inner["title"]] = _strip_title(inner)
    return {"$ref": f"#/components/schemas/{inner['title']}"}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _strip_title(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "title"}


def _path(rule: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """Turn a Flask rule into an OpenAPI path and the schemas of its path parameters."""
    params: dict[str, dict[str, Any]] = {}

    def replace(match: re.Match[str]) -> str:
        params[match["name"]] = dict(_CONVERTERS.get(match["converter"] or "", {"type": "string"}))
        return "{" + match["name"] + "}"

    return _RULE_ARGUMENT.sub(replace, rule), params


def _required(param: Parameter) -> bool:
    return not param.optional and param.default is None


def _param_schema(param: Parameter) -> dict[str, Any]:
    """Describe one validated parameter: its type(s), default and rules."""
    annotations = list(param.annotation)
    schema = (
        _type_schema(annotations[0]) if len(annotations) == 1 else {"anyOf": [_type_schema(a) for a in annotations]}
    )
    if param.default is not None:
        schema["default"] = param.default
    for rule in param.rules:
        _apply_rule(schema, rule)
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


def _apply_rule(schema: dict[str, Any], rule: Any) -> None:
    """Translate one validation rule into JSON Schema keywords (reading the rules' stored arguments)."""
    low, high = _LENGTH_KEYS.get(schema.get("type", ""), ("minLength", "maxLength"))
    if isinstance(rule, MinLen):
        schema[low] = rule._num
    elif isinstance(rule, MaxLen):
        schema[high] = rule._num
    elif isinstance(rule, Min):
        schema["minimum"] = rule._num
    elif isinstance(rule, Max):
        schema["maximum"] = rule._num
    elif isinstance(rule, In):
        schema["enum"] = list(rule._enum)
    elif isinstance(rule, Regex):
        _add_pattern(schema, rule._p_str)
    elif isinstance(rule, Strip):
        _add_pattern(schema, r"^(\S([\s\S]*\S)?)?$")
    elif isinstance(rule, Number):
        _add_pattern(schema, "^[0-9]+$")
    elif isinstance(rule, Email):
        schema["format"] = "email"
    elif isinstance(rule, IsoDatetime):
        schema["format"] = "date-time"
    elif isinstance(rule, EachMatches):
        _add_pattern(schema["items"], rule.pattern.pattern)
    else:
        schema["description"] = f"{schema.get('description', '')} Value {rule.invalid_str()}".strip()


def _add_pattern(schema: dict[str, Any], pattern: str) -> None:
    """Add a pattern; a second one goes into allOf, since a schema holds one `pattern`."""
    if "pattern" in schema:
        schema.setdefault("allOf", []).append({"pattern": pattern})
    else:
        schema["pattern"] = pattern
