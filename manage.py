"""The entry point: `flask` (through .flaskenv) and `gunicorn manage:application` load this module."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dotenv import load_dotenv
from flask import Flask

from app import create_app
from config import ConfigError

# The flask command loads .env itself; gunicorn does not. Real environment variables win.
# FLASK_SKIP_DOTENV=1 (set by the test runner) skips it, as it does for the flask command.
if os.getenv("FLASK_SKIP_DOTENV", "").lower() not in ("1", "true", "yes"):
    load_dotenv(Path(__file__).with_name(".env"))


def _asks_for_help(argv: list[str]) -> bool:
    """Tell whether this process is `flask`, `flask --help` or `flask COMMAND --help`."""
    return Path(argv[0]).name == "flask" and (len(argv) == 1 or bool({"--help", "-h"} & set(argv[1:])))


def _config_name(argv: list[str]) -> str:
    """Return FLASK_CONFIG, except for `flask test`: the runner must not depend on the developer's settings."""
    if Path(argv[0]).name == "flask" and argv[1:2] == ["test"]:
        return "testing"
    return os.getenv("FLASK_CONFIG") or "development"


try:
    application = create_app(_config_name(sys.argv))
except ConfigError as error:
    # One readable line per problem and a non-zero exit instead of a traceback.
    for problem in error.problems:
        print(f"configuration error: {problem}", file=sys.stderr)
    if not _asks_for_help(sys.argv):
        sys.exit(1)
    # `flask --help` still answers, listing Flask's own commands, so that a bad config can be explored.
    application = Flask(__name__)
