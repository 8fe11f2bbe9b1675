"""What a view says for the OpenAPI document beyond its inputs: `@documented`, and the schemas it answers with.

The inputs need nothing here: `@validate` plans them (`app.http.fields`), with their rules and examples.
`app.http.openapi_document` builds the document from both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

View = TypeVar("View", bound=Callable[..., Any])

OBJECT_ID = {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}
DATETIME = {"type": "string", "format": "date-time"}
STRING = {"type": "string"}


@dataclass(frozen=True)
class Component:
    """A named schema: listed once under the document's components, and a `$ref` wherever it is used."""

    name: str
    schema: dict[str, Any]


@overload
def object_schema(name: str, /, **properties: Any) -> Component: ...
@overload
def object_schema(name: None = None, /, **properties: Any) -> dict[str, Any]: ...
def object_schema(name: str | None = None, /, **properties: Any) -> Component | dict[str, Any]:
    """Return a closed object schema: these properties, all required, and no others.

    With a `name` it is a `Component` of the document (a `$ref` wherever it is used).
    """
    schema = {"type": "object", "required": list(properties), "additionalProperties": False, "properties": properties}
    return Component(name, schema) if name else schema


_ERROR_BODY = object_schema(status={"type": "integer"}, code=STRING, message=STRING, request_id=STRING)
_ERROR_BODY["properties"]["fields"] = {"type": "object", "additionalProperties": STRING}  # optional
# Optional: how many more failing fields there were than the envelope lists (it lists at most 20).
_ERROR_BODY["properties"]["fields_omitted"] = {"type": "integer", "minimum": 1}
ERROR = object_schema("Error", error=_ERROR_BODY)


def documented(
    status: int = 200,
    schema: Component | dict[str, Any] | None = None,
    *,
    errors: Iterable[int] = (),
    content_type: str = "application/json",
    hidden: bool = False,
) -> Callable[[View], View]:
    """Describe a view's success response (status, schema) and the domain errors it can raise.

    A `Component` (nested ones too) is listed under the components. `hidden` leaves the view out.
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
