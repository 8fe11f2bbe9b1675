"""URL converters for the API's routes."""

from __future__ import annotations

from bson import ObjectId
from werkzeug.routing import BaseConverter


class ObjectIdConverter(BaseConverter):
    """Match a 24-hex-digit ObjectId, so a malformed id is a 404 rather than a 500."""

    regex = "[0-9a-fA-F]{24}"

    def to_python(self, value: str) -> ObjectId:
        """Turn the URL segment into an ObjectId."""
        return ObjectId(value)

    def to_url(self, value: ObjectId | str) -> str:
        """Turn an ObjectId (or its string) into a URL segment."""
        return str(value)
