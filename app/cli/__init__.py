"""The project's `flask` commands, added to `app.cli` by the application factory."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click
from flask import Flask
from pymongo.errors import PyMongoError

from app.cli import accounts, database, develop, worker
from app.http.server_errors import raw_error
from app.services.database import SchemaOutdated, get_db


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
    if app.config["ENV_NAME"] == "development" and _command_name() == "run":
        prepare_database(app)
        if app.config["LOG_REQUESTS"]:
            keep_one_line_per_request()
        answer_server_errors_in_json()


def _command_name() -> str | None:
    """Return the name of the flask command being run, if any."""
    context = click.get_current_context(silent=True)
    return context.info_name if context is not None else None


class _WerkzeugRequestLines(logging.Filter):
    """Drop the development server's own access line ("127.0.0.1 - - [date] "GET / HTTP/1.1" 200 -")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return " - - [" not in str(record.msg)


def keep_one_line_per_request() -> None:
    """Leave the app's JSON request line as the only line per request under `flask run`.

    Werkzeug's start-up lines ("Running on http://...") and its errors still show.
    """
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(existing, _WerkzeugRequestLines) for existing in logger.filters):
        logger.addFilter(_WerkzeugRequestLines())


def answer_server_errors_in_json() -> None:
    """Answer the development server's own errors (a URL over 64 KB, a bad HTTP version) in the envelope."""
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.send_error = _send_json_error  # type: ignore[method-assign,assignment]


def _send_json_error(handler: Any, code: int, message: str | None = None, explain: str | None = None) -> None:
    """BaseHTTPRequestHandler.send_error, with the app's JSON envelope instead of an HTML page."""
    handler.log_error("code %d, message %s", code, message)
    handler.close_connection = True
    handler.wfile.write(raw_error(code))


def prepare_database(app: Flask) -> None:
    """Bring the development database up to date as `flask run` starts, so its first request is served.

    `flask shell` does the same through its context; any other first use does it too. A database that
    cannot be reached or fixed is reported in one line, and the server starts anyway.
    """
    with app.app_context():
        try:
            get_db()
        except SchemaOutdated as error:
            print(f"database: {error}", file=sys.stderr)
        except PyMongoError as error:
            print(f"database: not reachable yet ({error}); requests will answer 503 until it is", file=sys.stderr)
