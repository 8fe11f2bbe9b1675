"""Database commands: `flask db-init`, `flask db-migrate` and `flask db-server`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pymongo
from flask import current_app
from flask.cli import with_appcontext

from app.services.database import get_raw_db
from model import migrations
from model.mongodb import SchemaViolation, init_db

# Index builds and migrations may take far longer than the per-request budget (MONGODB_TIMEOUT_MS).
COMMAND_TIMEOUT_S = 3600


@click.command("db-init", short_help="Create collections, indexes and seed data.")
@with_appcontext
def db_init_command() -> None:
    """Create collections, validators, indexes and seed data (safe to run again).

    When stored data violates a new unique index or validator, nothing is changed: each problem is
    printed on one line (collection, index, offending ids, how to fix) and the exit status is 1.
    """
    db = get_raw_db()
    try:
        with pymongo.timeout(COMMAND_TIMEOUT_S):
            changes = init_db(db)
    except SchemaViolation as violation:
        for problem in violation.problems:
            click.echo(f"db-init: {problem}", err=True)
        click.echo(f"db-init: nothing was changed in database {db.name!r}; fix the above and run again.", err=True)
        sys.exit(1)
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
    db = get_raw_db()
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


@click.group("db-server", short_help="Show or stop the embedded development MongoDB.")
def db_server_group() -> None:
    """Manage the embedded development MongoDB under instance/."""


@db_server_group.command("status")
@with_appcontext
def db_server_status() -> None:
    """Show whether the embedded development server is running."""
    from dev import embedded_mongo  # a development tool, absent from the production image

    state = embedded_mongo.dev_server_status(_instance_dir())
    if state and "deleted" in state:
        # Found by its data directory's lock: no state file names it (instance/ deleted or edited).
        where = "its data directory was deleted" if state["deleted"] else "no instance/mongodb.json"
        uri = embedded_mongo.server_uri(state["port"])
        click.echo(f"running (orphan, {where}): pid {state['pid']}, {uri}; flask db-server stop stops it")
    elif state:
        click.echo(f"running: pid {state['pid']}, {embedded_mongo.server_uri(state['port'])}")
    else:
        click.echo("not running")


@db_server_group.command("stop")
@with_appcontext
def db_server_stop() -> None:
    """Stop the embedded development server (its data stays under instance/)."""
    from dev import embedded_mongo

    click.echo("stopped" if embedded_mongo.stop_dev_server(_instance_dir()) else "not running")


def _instance_dir() -> Path:
    return Path(current_app.instance_path)
