"""Human-readable pages: the landing page at / and the project's README at /readme."""

from __future__ import annotations

import re
from functools import cache
from itertools import pairwise
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, send_from_directory

from app.http.errors import ApiError
from app.http.openapi import documented
from app.version import __version__

bp = Blueprint("pages", __name__)

README = Path(__file__).resolve().parents[2] / "README.md"


def slug(heading: str) -> str:
    """Return a heading's anchor the way GitHub makes it, so links work there and here alike."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@cache
def readme() -> tuple[list[tuple[str, str]], str]:
    """Return the README's sections as (title, anchor) and the README as HTML; read once per process."""
    if not README.exists():
        return [], ""
    # Imported here: only the README page needs it, and an API worker that never serves the page does
    # not carry the parser's 60-odd modules (about 1 MB per worker; docs/performance.md).
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False}).enable("table")  # raw HTML in the README stays text
    tokens = parser.parse(README.read_text(encoding="utf-8"))
    sections = []
    for opening, inline in pairwise(tokens):
        if opening.type == "heading_open" and opening.tag in ("h2", "h3"):
            anchor = slug(inline.content)
            opening.attrSet("id", anchor)
            if opening.tag == "h2":
                sections.append((inline.content, anchor))
    return sections, parser.renderer.render(tokens, parser.options, {})


@bp.get("/")
@documented(hidden=True)
def get_home() -> str:
    """Show the landing page: name, version, where to go next and, outside production, the environment."""
    config = current_app.config
    sections, _ = readme()
    return render_template(
        "index.html",
        name=config["APP_NAME"],
        version=__version__,
        environment=None if config["ENV_NAME"] == "production" else config["ENV_NAME"],
        docs_enabled=config["DOCS_ENABLED"],
        sections=sections,
    )


@bp.get("/readme")
@documented(hidden=True)
def get_readme() -> str:
    """Show the project's README."""
    _, html = readme()
    if not html:
        raise ApiError(404, "README.md is not part of this deployment.")
    return render_template("readme.html", name=current_app.config["APP_NAME"], content=html)


@bp.get("/favicon.ico")
@documented(hidden=True)
def get_favicon() -> Response:
    """Serve the site's icon, which browsers ask for on every page (the API's pages included)."""
    return send_from_directory(current_app.static_folder or "", "favicon.ico", max_age=86400)
