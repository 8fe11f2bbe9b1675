"""`@validate`: the one wrapper around flask-validation-extended that every view uses.

Views declare their inputs the library's way, with the sources and rules of `app.http.inputs`
(`a=Query(int, rules=[Min(0)], example=3)`), and are decorated with `@validate`. The types and rules
are the library's; the messages say in words what is expected ("Must be an integer.", "Must not be
null."). The checking loop is this module's: it runs the view's plan, worked
out once (`app.http.fields`), and it closes the library's gaps before they reach a client:

- a malformed JSON body is a 400 `malformed_json` (the library reads it as an empty body), on every
  endpoint, including one that declares no body;
- a JSON array or scalar where an object is expected is a 400 (the library raises a 500);
- a body that is not JSON is a 415;
- fields a view does not declare are a 400, never silently ignored: an endpoint that declares no body
  refuses a body with fields; so are query parameters it does not declare (a typo such as `limti=1`
  would otherwise quietly give the default), and a parameter given twice (`a=1&a=7`: which one counts?);
- `true` is not accepted as an integer (bool is an int in Python), nor "1_000" or non-ASCII digits;
- NaN and infinity are not accepted as floats;
- header names are case-insensitive;
- every failing parameter is reported at once, in the envelope's `fields`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, request

from app.http.errors import ApiError
from app.http.fields import plan_view

View = TypeVar("View", bound=Callable[..., Any])


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


def _has_body(environ: dict[str, Any]) -> bool:
    """Tell whether the request carries a body (a cheap look at the environ, no header parsing)."""
    return environ.get("CONTENT_LENGTH", "0") not in ("", "0") or "HTTP_TRANSFER_ENCODING" in environ


def _files(name: str) -> list[Any] | None:
    """Return the uploaded files called `name`, None when there are none (as the library does)."""
    files = request.files.getlist(name)
    return None if not files or (len(files) == 1 and files[0].filename == "") else files


def _query_problems(declared: frozenset[str]) -> dict[str, str]:
    """Return the query parameters the view does not declare, and the declared ones given more than once."""
    problems = {key: "Unknown query parameter." for key in request.args if key not in declared}  # in URL order
    for key in declared:
        if len(request.args.getlist(key)) > 1:
            problems[key] = "Given more than once."
    return problems


def validate(view: View) -> View:
    """Validate the view's declared parameters and call it with the parsed values as keyword arguments."""
    fields = plan_view(view)
    json_fields = frozenset(f.name for f in fields if f.source == "json")
    query_keys = frozenset(f.key for f in fields if f.source == "query")
    sources = {f.source for f in fields}

    @wraps(view)
    def wrapper(**route_args: Any) -> Any:
        # Each source is read once per request, and only when a parameter comes from it; the body is
        # read whenever there is one, so that a view without body fields refuses one.
        body = _json_object() if json_fields or _has_body(request.environ) else {}
        inputs: dict[str, Any] = {"route": route_args, "json": body}
        if "query" in sources:
            inputs["query"] = request.args
        if "header" in sources:
            inputs["header"] = request.headers  # case-insensitive
        if "form" in sources:
            inputs["form"] = request.form
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for field in fields:
            raw = _files(field.key) if field.source == "file" else inputs[field.source].get(field.key)
            if raw is None and field.required and field.source == "json" and field.key in body:
                errors[field.name] = "Must not be null."  # given, but as null
                continue
            value, problem = field.check(raw)
            if problem:
                errors[field.name] = problem
            else:
                values[field.name] = value
        if body:
            for unknown in (name for name in body if name not in json_fields):  # in the body's order
                errors[unknown] = "Unknown field."
        if request.environ.get("QUERY_STRING"):
            errors |= _query_problems(query_keys)
        if errors:
            raise ApiError(400, "The request has invalid parameters.", code="validation_error", fields=errors)
        return view(**values)

    wrapper.api_plan = fields  # type: ignore[attr-defined]  # documented by the OpenAPI generator
    return wrapper  # type: ignore[return-value]
