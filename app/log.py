"""Structured logs: one JSON object per line on stdout; errors also to a rotating file when configured.

Only the fields below are ever written. Request bodies, passwords and tokens are never logged: the
request log names the method, the path without its query string, the status and the caller's id.
"""

from __future__ import annotations

import logging
import sys
import time
from logging.handlers import RotatingFileHandler
from typing import Any

import orjson
from flask import Flask
from flask.logging import default_handler

from config import ConfigError

CONTEXT_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "client", "user_id")
ERROR_LOG_MAX_BYTES = 10 * 1024 * 1024
ERROR_LOG_BACKUPS = 5


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message and any request context."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = record.__dict__
        for name in CONTEXT_FIELDS:
            value = fields.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def _handler(handler: logging.Handler, level: int) -> logging.Handler:
    handler.setFormatter(JsonFormatter())
    handler.setLevel(level)
    handler._app_json = True  # type: ignore[attr-defined]  # marks handlers this module owns
    return handler


def init_app(app: Flask) -> None:
    """Send the app's logs, as JSON, to stdout and (errors) to ERROR_LOG_PATH."""
    level_name = str(app.config["LOG_LEVEL"]).upper()
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {level_name!r}")
    logger = app.logger
    # Building several apps in one process (tests) must not stack handlers.
    for old in [h for h in logger.handlers if getattr(h, "_app_json", False) or h is default_handler]:
        logger.removeHandler(old)
        old.close()
    logger.addHandler(_handler(logging.StreamHandler(sys.stdout), logging.NOTSET))
    path = app.config["ERROR_LOG_PATH"]
    if path:
        file_handler = RotatingFileHandler(path, maxBytes=ERROR_LOG_MAX_BYTES, backupCount=ERROR_LOG_BACKUPS)
        logger.addHandler(_handler(file_handler, logging.ERROR))
    logger.setLevel(level)
    logger.propagate = False
