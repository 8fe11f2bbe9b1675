"""Check every response the API tests receive against the app's own OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from app.http.openapi_document import openapi_path
from app.site.docs import openapi_document

SPEC_URI = "urn:openapi"


class ResponseMismatch(AssertionError):
    """Raised when a response does not match the document."""


def check_response(app: Flask, method: str, path: str, response: TestResponse) -> None:
    """Raise ResponseMismatch unless `response` is what the document says `method path` answers."""
    try:
        rule, _ = app.url_map.bind("localhost").match(path, method, return_rule=True)
    except HTTPException:
        return  # 404/405 from routing: no operation to compare with
    with app.app_context():
        spec = openapi_document()
    template, _ = openapi_path(rule.rule)
    operation = spec["paths"].get(template, {}).get(method.lower())
    if operation is None:
        return  # a hidden route (the docs UI)
    status = str(response.status_code)
    if response.status_code < 400 and status not in operation["responses"]:
        raise ResponseMismatch(f"{method} {template} answered {status}, which the document does not list")
    declared = operation["responses"].get(status) or operation["responses"]["default"]
    content = declared.get("content")
    if content is None:
        if response.data:
            raise ResponseMismatch(f"{method} {template} {status} has a body, but the document says none")
        return
    media = response.mimetype
    if media not in content:
        raise ResponseMismatch(f"{method} {template} {status} is {media}, the document says {sorted(content)}")
    if media != "application/json":
        return
    pointer = "/".join(["#/paths", template.replace("~", "~0").replace("/", "~1"), method.lower(), "responses"])
    pointer += f"/{status if status in operation['responses'] else 'default'}/content/application~1json/schema"
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, DRAFT202012))
    validator = Draft202012Validator({"$ref": SPEC_URI + pointer}, registry=registry)
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(response.get_json())
    ]
    if problems:
        raise ResponseMismatch(f"{method} {template} {status} does not match the document: {problems[:3]}")


class ConformingClient(FlaskClient):
    """A test client that checks each response against the app's OpenAPI document."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:  # type: ignore[override]
        response = super().open(*args, **kwargs)
        request = response.request
        check_response(self.application, request.method, request.path, response)
        return response
