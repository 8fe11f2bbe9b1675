"""Account commands: `flask create-admin`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.http.security import auth_settings
from app.services.database import get_db
from controller.account_rules import find_account
from controller.errors import DomainError
from controller.user import create_admin


@click.command("create-admin", short_help="Make an account an admin (create if needed).")
@click.argument("email")
@click.option("--name", help="Display name, for a new account.")
@with_appcontext
def create_admin_command(email: str, name: str | None) -> None:
    """Make EMAIL an admin, creating the account (asking for its password) if it does not exist."""
    db = get_db()
    password = None
    if find_account(db, email) is None:
        name = name or click.prompt("Name")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        account, created = create_admin(db, auth_settings(), email=email, name=name, password=password)
    except DomainError as error:
        details = "; ".join(f"{field} {message}" for field, message in (error.fields or {}).items())
        raise click.ClickException(f"{error.message} {details}".strip()) from None
    click.echo(f"{'created' if created else 'promoted'} admin {account['email']} ({account['id']})")
