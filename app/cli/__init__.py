"""The project's `flask` commands, added to `app.cli` by the application factory."""

from __future__ import annotations

from flask import Flask

from app.cli import accounts, database, develop, worker


def init_app(app: Flask) -> None:
    """Add the project's commands and the `flask shell` context to `app.cli`.

    Commands that only make sense on a developer's machine (the embedded server, code generation) are
    left out in production.
    """
    app.shell_context_processor(develop.shell_context)
    commands = [
        database.db_init_command,
        database.db_migrate_command,
        accounts.create_admin_command,
        develop.openapi_command,
        develop.test_command,
        worker.worker_command,
    ]
    if app.config["ENV_NAME"] != "production":
        commands += [develop.scaffold_command, database.db_server_group]
    for command in commands:
        app.cli.add_command(command)
