"""The project's `flask` commands."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pymongo
from bson import ObjectId
from flask import Flask, current_app
from flask.cli import with_appcontext

import controller
from app import embedded_mongo, scaffold
from app.api.openapi import build_openapi
from app.api.security import auth_settings
from app.database import get_db
from controller.errors import DomainError
from controller.user import create_admin
from model import migrations
from model.mongodb import MODELS, User, init_db

# Index builds and migrations may take far longer than the per-request budget (MONGODB_TIMEOUT_MS).
COMMAND_TIMEOUT_S = 3600


@click.command("db-init", short_help="Create collections, indexes and seed data.")
@with_appcontext
def db_init_command() -> None:
    """Create collections, validators, indexes and seed data (safe to run again)."""
    db = get_db()
    with pymongo.timeout(COMMAND_TIMEOUT_S):
        changes = init_db(db)
    for change in changes:
        click.echo(f"  {change}")
    if changes:
        click.echo(f"db-init: {len(changes)} change(s) applied to database {db.name!r}.")
    else:
        click.echo(f"db-init: nothing to change; database {db.name!r} is up to date.")


@click.command("db-migrate", short_help="Apply pending schema migrations.")
@click.option("--status", "show_status", is_flag=True, help="List applied and pending migrations; change nothing.")
@click.option("--rollback", is_flag=True, help="Revert the most recently applied migration.")
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for another host's migration lock.")
@with_appcontext
def db_migrate_command(show_status: bool, rollback: bool, wait: float) -> None:
    """Apply pending schema migrations from model/migrations/ in order (safe on several hosts at once)."""
    db = get_db()
    try:
        known = migrations.discover()
        with pymongo.timeout(COMMAND_TIMEOUT_S):
            if show_status:
                for name, applied_at, description in migrations.status(db, known):
                    state = f"applied {applied_at:%Y-%m-%d %H:%M:%S}Z" if applied_at else "pending"
                    click.echo(f"  {name:40} {state:29} {description}")
            elif rollback:
                reverted = migrations.rollback(db, known, wait_s=wait)
                click.echo(f"db-migrate: reverted {reverted}." if reverted else "db-migrate: nothing to revert.")
            else:
                applied = migrations.migrate(db, known, wait_s=wait)
                for name in applied:
                    click.echo(f"  applied {name}")
                click.echo(
                    f"db-migrate: {len(applied)} migration(s) applied." if applied else "db-migrate: up to date."
                )
    except migrations.MigrationError as error:
        raise click.ClickException(str(error)) from None


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


@click.command("create-admin", short_help="Make an account an admin (create if needed).")
@click.argument("email")
@click.option("--name", help="Display name, for a new account.")
@with_appcontext
def create_admin_command(email: str, name: str | None) -> None:
    """Make EMAIL an admin, creating the account (asking for its password) if it does not exist."""
    db = get_db()
    password = None
    exists = User(db).find_by_email(email.strip().lower()) is not None
    if not exists:
        name = name or click.prompt("Name")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        account, created = create_admin(db, auth_settings(), email=email, name=name, password=password)
    except DomainError as error:
        details = "; ".join(f"{field} {message}" for field, message in (error.fields or {}).items())
        raise click.ClickException(f"{error.message} {details}".strip()) from None
    click.echo(f"{'created' if created else 'promoted'} admin {account['email']} ({account['id']})")


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


@click.group("db-server", short_help="Show or stop the embedded development MongoDB.")
def db_server_group() -> None:
    """Manage the embedded development MongoDB under instance/."""


@db_server_group.command("status")
@with_appcontext
def db_server_status() -> None:
    """Show whether the embedded development server is running."""
    state = embedded_mongo.dev_server_status(_instance_dir())
    if state:
        click.echo(f"running: pid {state['pid']}, {embedded_mongo.server_uri(state['port'])}")
    else:
        click.echo("not running")


@db_server_group.command("stop")
@with_appcontext
def db_server_stop() -> None:
    """Stop the embedded development server (its data stays under instance/)."""
    click.echo("stopped" if embedded_mongo.stop_dev_server(_instance_dir()) else "not running")


def _instance_dir() -> Path:
    return Path(current_app.instance_path)


def shell_context() -> dict[str, Any]:
    """Give `flask shell` the app, the database, every model class and the controller modules."""
    context: dict[str, Any] = {"app": current_app, "db": get_db(), "ObjectId": ObjectId}
    context.update({model.__name__: model for model in MODELS})
    # Found rather than listed, so that a new controller module appears on its own.
    for module in pkgutil.iter_modules(controller.__path__):
        context[module.name] = importlib.import_module(f"controller.{module.name}")
    return context


def register_commands(app: Flask) -> None:
    """Add the project's commands, and the shell context, to `app.cli`."""
    app.shell_context_processor(shell_context)
    commands = (
        db_init_command,
        db_migrate_command,
        create_admin_command,
        openapi_command,
        scaffold_command,
        test_command,
        db_server_group,
    )
    for command in commands:
        app.cli.add_command(command)
