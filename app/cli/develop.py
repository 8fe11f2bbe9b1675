"""Developer commands: `flask test`, `flask openapi`, `flask scaffold` and the `flask shell` context."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
from bson import ObjectId
from flask import current_app
from flask.cli import with_appcontext

import controller
from app.cli import scaffold
from app.http.openapi_document import build_openapi
from app.services.database import get_db
from model.mongodb import MODELS


@click.command("openapi", short_help="Write the OpenAPI document as JSON.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to this file (default: stdout)."
)
@with_appcontext
def openapi_command(output: str | None) -> None:
    """Write the generated OpenAPI 3.1 document as JSON."""
    text = json.dumps(build_openapi(current_app), indent=2, sort_keys=False) + "\n"
    if output:
        Path(output).write_text(text)
        click.echo(f"wrote {output}")
    else:
        click.echo(text, nl=False)


@click.command("scaffold", short_help="Generate a resource in every layer.")
@click.argument("name")
@click.option("--singular", help="The singular, when it is not NAME without its final s (people -> person).")
@with_appcontext
def scaffold_command(name: str, singular: str | None) -> None:
    """Generate resource NAME (plural, e.g. invoices) in every layer, with tests, following posts."""
    root = Path(current_app.root_path).parent
    try:
        written = scaffold.generate(root, name, singular)
    except scaffold.ScaffoldError as error:
        raise click.ClickException(str(error)) from None
    for path in written:
        click.echo(f"  wrote {path.relative_to(root)}")
    click.echo(f"scaffold: {name} is ready. Next: flask db-init, then flask test tests.api.test_{name}")


@click.command(
    "test", short_help="Run the tests; exit non-zero on failure.", context_settings={"ignore_unknown_options": True}
)
@click.option("--coverage", is_flag=True, help="Measure line coverage and print a report.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def test_command(coverage: bool, args: tuple[str, ...]) -> None:
    """Run the test suite (optionally only the named tests); exit non-zero on failure."""
    command = [sys.executable, "-m", "tests", *(["--coverage"] if coverage else []), *args]
    sys.exit(subprocess.call(command, cwd=Path(current_app.root_path).parent))


def shell_context() -> dict[str, Any]:
    """Give `flask shell` the app, the database, every model class and the controller modules."""
    context: dict[str, Any] = {"app": current_app, "db": get_db(), "ObjectId": ObjectId}
    context.update({model.__name__: model for model in MODELS})
    # Found rather than listed, so that a new controller module appears on its own.
    for module in pkgutil.iter_modules(controller.__path__):
        context[module.name] = importlib.import_module(f"controller.{module.name}")
    return context
