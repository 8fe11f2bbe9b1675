"""The OpenAPI 3.1 document, generated from the code that already describes each endpoint.

For every URL rule it reads the methods, the path converters, the parameter plan `@validate` made
(sources, JSON Schemas, examples), the auth and rate-limit marks of `@authenticated` and `@rate_limited`,
the docstring, and what `@documented` says of the success response. The error responses follow from
those (400 for any input, 401 with auth, 404 with a path id, ...) and take their descriptions from the
error table; every operation also documents the error envelope as its default response. Nothing else
is written by hand: adding a view adds it to the document.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from flask import Flask

from app.http import idempotency
from app.http.errors import BY_STATUS
from app.http.fields import Field
from app.http.openapi import ERROR, OBJECT_ID, Component
from app.version import __version__

# Each path converter's schema, and the example "Try it out" fills in.
_CONVERTERS: dict[str, tuple[dict[str, Any], Any]] = {
    "objectid": (OBJECT_ID, "66a1f0c2b3d4e5f601234567"),
    "int": ({"type": "integer"}, 1),
    "float": ({"type": "number"}, 1.5),
}
_RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def build_openapi(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every route of `app`."""
    components: dict[str, Any] = {}
    _register(ERROR, components)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        doc = getattr(view, "api_doc", {})
        if doc.get("hidden") or rule.endpoint == "static":  # pages and files, not API operations
            continue
        path, path_params = openapi_path(rule.rule)
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        for method in methods:
            operation_id = rule.endpoint if len(methods) == 1 else f"{rule.endpoint}.{method.lower()}"
            operation = _operation(view, doc, method, path_params, operation_id, components)
            paths.setdefault(path, {})[method.lower()] = operation
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
    method: str,
    path_params: list[dict[str, Any]],
    operation_id: str,
    components: dict[str, Any],
) -> dict[str, Any]:
    plan: list[Field] = getattr(view, "api_plan", [])
    auth: dict[str, Any] | None = getattr(view, "api_auth", None)
    summary, _, description = inspect.cleandoc(view.__doc__ or "").partition("\n")
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [operation_id.split(".")[-2] if "." in operation_id else operation_id],
    }
    if description.strip():
        operation["description"] = description.strip()

    parameters = list(path_params)
    body: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
    example: dict[str, Any] = {}
    for field in plan:
        if field.source == "route":
            continue
        if field.source == "json":
            # The validator reads null as "not given", so an optional field may be null.
            body["properties"][field.name] = (
                field.schema if field.required else {"anyOf": [field.schema, {"type": "null"}]}
            )
            if field.required:
                body.setdefault("required", []).append(field.name)
            if field.example is not None:
                example[field.name] = field.example
        else:
            parameter = {"name": field.key, "in": field.source, "required": field.required, "schema": field.schema}
            if field.example is not None:
                parameter["example"] = field.example
            parameters.append(parameter)
    if getattr(view, "api_idempotent", False):
        parameters.append(idempotency.OPENAPI_PARAMETER)
    if parameters:
        operation["parameters"] = parameters
    if body["properties"]:
        media: dict[str, Any] = {"schema": body}
        if example:
            media["example"] = example
        operation["requestBody"] = {"required": "required" in body, "content": {"application/json": media}}

    errors = set(doc.get("errors", ()))
    if getattr(view, "api_idempotent", False):
        errors |= {409, 422}  # a retry while the first run holds the key; the key reused for another request
    if plan or path_params or (hasattr(view, "api_plan") and method in _BODY_METHODS):
        errors.add(400)  # a wrong input; a body on an endpoint that takes none, or malformed JSON
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
    schema = _refer(doc.get("schema") or {}, components)
    return {"description": "Success.", "content": {doc.get("content_type", "application/json"): {"schema": schema}}}


def _refer(schema: Any, components: dict[str, Any]) -> Any:
    """Return `schema` with every Component in it (nested ones too) registered and replaced by its `$ref`."""
    if isinstance(schema, Component):
        return _register(schema, components)
    if isinstance(schema, list):
        return [_refer(item, components) for item in schema]
    if isinstance(schema, dict):
        return {key: _refer(value, components) for key, value in schema.items()}
    return schema


def _register(component: Component, components: dict[str, Any]) -> dict[str, str]:
    """List `component` under the components (once; another schema under its name is an error); return its $ref."""
    schema = _refer(component.schema, components)
    if components.setdefault(component.name, schema) != schema:
        raise ValueError(f"two different schemas are named {component.name!r} in the OpenAPI document")
    return {"$ref": f"#/components/schemas/{component.name}"}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """Turn a Flask rule into an OpenAPI path and its path parameters (schema and example from the converter)."""
    params: list[dict[str, Any]] = []

    def replace(match: re.Match[str]) -> str:
        schema, example = _CONVERTERS.get(match["converter"] or "", ({"type": "string"}, "example"))
        params.append({"name": match["name"], "in": "path", "required": True, "schema": dict(schema)})
        params[-1]["example"] = example
        return "{" + match["name"] + "}"

    return _RULE_ARGUMENT.sub(replace, rule), params
