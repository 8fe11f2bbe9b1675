"""The versioned JSON API: one blueprint per resource, mounted under /api/v1."""

from __future__ import annotations

from flask import Blueprint, Flask

from app.api import sample
from app.api.converters import ObjectIdConverter

API_PREFIX = "/api/v1"


def init_app(app: Flask) -> None:
    """Mount every API blueprint on `app`."""
    app.url_map.converters["objectid"] = ObjectIdConverter
    api = Blueprint("api", __name__, url_prefix=API_PREFIX)
    api.register_blueprint(sample.bp)
    app.register_blueprint(api)
