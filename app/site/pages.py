"""Human-readable pages: the landing page at /, the project's README at /readme and its docs/ pages under it."""

from __future__ import annotations

import posixpath
import re
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, send_from_directory

from app.http.errors import ApiError
from app.http.openapi import documented
from app.version import __version__

bp = Blueprint("pages", __name__)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}\.md")  # docs/<name>.md, shown at /readme/<name>.md


def slug(heading: str) -> str:
    """Return a heading's anchor the way GitHub makes it, so links work there and here alike."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def page_url(target: str) -> str | None:
    """Return where this site shows a file of the repository (README.md, docs/*.md), or None."""
    if target == "README.md":
        return "/readme"
    directory, _, name = target.partition("/")
    return f"/readme/{name}" if directory == "docs" and PAGE_NAME.fullmatch(name) else None


def _link_pages(tokens: list[Any], source: str) -> None:
    """Point relative links to README.md and docs/*.md at their pages here; leave other links alone."""
    for child in (child for token in tokens for child in token.children or ()):
        href = str(child.attrGet("href") or "") if child.type == "link_open" else ""
        if not href or href.startswith(("#", "/")) or ":" in href:
            continue
        path, hash_sign, anchor = href.partition("#")
        url = page_url(posixpath.normpath(posixpath.join(posixpath.dirname(source), path)))
        if url is not None:
            child.attrSet("href", url + hash_sign + anchor)


@cache
def render(source: str) -> tuple[list[tuple[str, str]], str]:
    """Return the sections (title, anchor) and the HTML of README.md or docs/<name>.md; read once per process."""
    path = ROOT / source
    if not path.is_file():
        return [], ""
    # Imported here: only these pages need it, and an API worker that never serves them does not carry
    # the parser's 60-odd modules (about 1 MB per worker; docs/performance.md).
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False}).enable("table")  # raw HTML in the text stays text
    tokens = parser.parse(path.read_text(encoding="utf-8"))
    sections = []
    for opening, inline in pairwise(tokens):
        if opening.type == "heading_open" and opening.tag in ("h2", "h3"):
            anchor = slug(inline.content)
            opening.attrSet("id", anchor)
            if opening.tag == "h2":
                sections.append((inline.content, anchor))
    _link_pages(tokens, source)
    return sections, parser.renderer.render(tokens, parser.options, {})


def readme() -> tuple[list[tuple[str, str]], str]:
    """Return the README's sections and HTML."""
    return render(README.relative_to(ROOT).as_posix())


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
    return render_template("readme.html", name=current_app.config["APP_NAME"], title="README", content=html)


@bp.get("/readme/<name>")
@documented(hidden=True)
def get_doc_page(name: str) -> str:
    """Show one of the docs/ pages the README links to."""
    # Only names of existing pages reach the cached renderer, so clients cannot grow its cache.
    exists = PAGE_NAME.fullmatch(name) is not None and (DOCS / name).is_file()
    _, html = render(f"docs/{name}") if exists else ([], "")
    if not html:
        raise ApiError(404, "No such documentation page.")
    return render_template("readme.html", name=current_app.config["APP_NAME"], title=name, content=html)


@bp.get("/favicon.ico")
@documented(hidden=True)
def get_favicon() -> Response:
    """Serve the site's icon, which browsers ask for on every page (the API's pages included)."""
    return send_from_directory(current_app.static_folder or "", "favicon.ico", max_age=86400)
