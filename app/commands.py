"""The project's `flask` commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app import embedded_mongo
from app.api.security import auth_settings
from app.database import get_db
from controller.errors import DomainError
from controller.user import create_admin
from model.mongodb import User, init_db


@click.command("db-init")
@with_appcontext
def db_init_command() -> None:
    """Create collections, validators, indexes and seed data (safe to run again)."""
    changes = init_db(get_db())
    for change in changes:
        click.echo(f"  {change}")
    if changes:
        click.echo(f"db-init: {len(changes)} change(s) applied to database {get_db().name!r}.")
    else:
        click.echo(f"db-init: nothing to change; database {get_db().name!r} is up to date.")


@click.command("create-admin")
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


@click.command("test", context_settings={"ignore_unknown_options": True})
@click.option("--coverage", is_flag=True, help="Measure line coverage and print a report.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def test_command(coverage: bool, args: tuple[str, ...]) -> None:
    """Run the test suite (optionally only the named tests); exit non-zero on failure."""
    command = [sys.executable, "-m", "tests", *(["--coverage"] if coverage else []), *args]
    sys.exit(subprocess.call(command, cwd=Path(current_app.root_path).parent))


@click.group("db-server")
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


def register_commands(app: Flask) -> None:
    """Add the project's commands to `app.cli`."""
    for command in (db_init_command, create_admin_command, test_command, db_server_group):
        app.cli.add_command(command)
