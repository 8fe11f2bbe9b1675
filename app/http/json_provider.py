"""JSON encoding for requests and responses, with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from bson import Decimal128, ObjectId
from flask import Response
from flask.json.provider import JSONProvider

# Naive datetimes are treated as UTC; every datetime is written as ISO 8601 with its offset.
_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z


def _default(value: Any) -> Any:
    """Encode the BSON types that orjson does not know."""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, Decimal128):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class OrjsonProvider(JSONProvider):
    """Flask's JSON provider on orjson: several times faster than the standard library, and strict."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Encode `obj` to a JSON string."""
        return orjson.dumps(obj, default=_default, option=_OPTIONS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Decode JSON; NaN, Infinity and numbers out of range are rejected as malformed."""
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Build a JSON response from the arguments, as `jsonify` does."""
        data = self._prepare_response_obj(args, kwargs)
        return Response(orjson.dumps(data, default=_default, option=_OPTIONS), mimetype="application/json")
