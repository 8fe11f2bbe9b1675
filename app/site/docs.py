"""The API's own description: the OpenAPI document and an offline Swagger UI at /docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import swagger_ui_bundle
from flask import Blueprint, Response, current_app, send_from_directory

from app.http.errors import ApiError
from app.http.openapi import documented
from app.http.openapi_document import build_openapi

bp = Blueprint("docs", __name__)

SWAGGER_PAGE = Path(__file__).with_name("swagger")
# The files /docs may serve, and where each comes from: Swagger UI's own from the swagger-ui-bundle
# package (no CDN, works offline), the page and its start-up script from app/site/swagger.
DOCS_FILES = {
    "swagger-ui.css": Path(swagger_ui_bundle.swagger_ui_path),
    "swagger-ui-bundle.js": Path(swagger_ui_bundle.swagger_ui_path),
    "favicon-32x32.png": Path(swagger_ui_bundle.swagger_ui_path),
    "init.js": SWAGGER_PAGE,
    "index.html": SWAGGER_PAGE,
}


def openapi_document() -> dict[str, Any]:
    """Return the app's OpenAPI document, built once (the routes do not change after start-up)."""
    extensions = current_app.extensions
    if "openapi" not in extensions:
        extensions["openapi"] = build_openapi(current_app)
    document: dict[str, Any] = extensions["openapi"]
    return document


def _require_docs() -> None:
    if not current_app.config["DOCS_ENABLED"]:
        raise ApiError(404, "The API documentation is disabled.")


@bp.get("/api/v1/openapi.json")
@documented(schema={"type": "object"}, errors=[404])
def get_openapi() -> dict[str, Any]:
    """Return this API's OpenAPI 3.1 document."""
    _require_docs()
    return openapi_document()


@bp.get("/docs")
@documented(hidden=True)
def get_docs() -> Response:
    """Serve the interactive Swagger UI."""
    return get_docs_file("index.html")


@bp.get("/docs/<path:filename>")
@documented(hidden=True)
def get_docs_file(filename: str) -> Response:
    """Serve one of Swagger UI's files."""
    _require_docs()
    directory = DOCS_FILES.get(filename)
    if directory is None:
        raise ApiError(404, "No such documentation file.")
    return send_from_directory(directory, filename, max_age=3600)
