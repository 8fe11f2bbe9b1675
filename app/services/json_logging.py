"""Structured logs: one JSON object per line on stdout; errors also to a rotating file when configured.

Lines below WARNING are batched for up to LOG_FLUSH_INTERVAL_MS (see JsonStreamHandler).

Only the fields below are ever written. Request bodies, passwords and tokens are never logged: the
request log names the method, the path without its query string, the status and the caller's id.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import weakref
from functools import lru_cache
from logging.handlers import RotatingFileHandler
from typing import Any

import orjson
from flask import Flask
from flask.logging import default_handler

from config import ConfigError

CONTEXT_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "client", "user_id")
ERROR_LOG_MAX_BYTES = 10 * 1024 * 1024
ERROR_LOG_BACKUPS = 5


@lru_cache(maxsize=4)
def _utc_second(second: int) -> str:
    """Format a Unix second once; every log line within that second reuses it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def json_line(created: float, level: str, logger: str, message: str, fields: dict[str, Any]) -> bytes:
    """Return one log line, newline included: time, level, logger, message and the non-empty fields."""
    second = int(created)
    entry: dict[str, Any] = {
        "time": f"{_utc_second(second)}.{int((created - second) * 1000):03d}Z",
        "level": level,
        "logger": logger,
        "message": message,
    }
    for name, value in fields.items():
        if value is not None:
            entry[name] = value
    return orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message and any request context."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        fields = {name: record.__dict__.get(name) for name in CONTEXT_FIELDS}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        line = json_line(record.created, record.levelname, record.name, record.getMessage(), fields)
        return line[:-1].decode()  # the handler adds the newline


class JsonStreamHandler(logging.StreamHandler):
    """JSON lines to a stream, with INFO and DEBUG lines batched for up to `interval` seconds.

    A per-line write costs a system call, a large share of a fast request. Batching, as nginx's
    `access_log ... buffer= flush=` does, writes many lines at once. A warning or an error is written at
    once, after the lines waiting before it, so the order holds. Buffers are emptied by a flusher thread,
    before a fork and at exit. A process killed with SIGKILL loses at most `interval` of INFO lines.
    `interval` 0 writes every line at once.
    """

    MAX_PENDING_BYTES = 64 * 1024

    def __init__(self, stream: Any, *, interval: float) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())
        self.interval = interval
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._pending_since = 0.0
        _register_fork_hooks()
        _BUFFERED.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        """Format a record and hand it to write_line()."""
        try:
            line = (self.format(record) + "\n").encode()
        except Exception:
            self.handleError(record)
            return
        self.write_line(line, urgent=record.levelno >= logging.WARNING)

    def write_line(self, line: bytes, *, urgent: bool = False) -> None:
        """Queue one encoded line; write the batch now if urgent, unbatched or full."""
        self.acquire()
        try:
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append(line)
            self._pending_bytes += len(line)
            if urgent or self.interval <= 0 or self._pending_bytes >= self.MAX_PENDING_BYTES:
                self._write_pending()
                return
        finally:
            self.release()
        _ensure_flusher()

    def flush(self, *, due_only: bool = False) -> None:
        """Write what is waiting (with `due_only`, only once the oldest line has waited `interval`)."""
        self.acquire()
        try:
            if not due_only or time.monotonic() - self._pending_since >= self.interval:
                self._write_pending()
        finally:
            self.release()

    def _write_pending(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        stream = self.stream
        binary = getattr(stream, "buffer", None)
        if binary is None:
            stream.write(data.decode())
            stream.flush()
            return
        stream.flush()  # whatever else went through the text layer (print) goes first
        binary.write(data)
        binary.flush()


_BUFFERED: weakref.WeakSet[JsonStreamHandler] = weakref.WeakSet()
_flusher_running = False  # in this process; a forked child starts false (see _ensure_flusher)
_flusher_lock = threading.Lock()
FLUSH_TICK_S = 0.05


def _flush_all(*, due_only: bool = False) -> None:
    for handler in list(_BUFFERED):
        handler.flush(due_only=due_only)


def _ensure_flusher() -> None:
    """Start this process's flusher thread once (a forked worker starts its own)."""
    global _flusher_running
    if _flusher_running:
        return
    with _flusher_lock:
        if not _flusher_running:
            _flusher_running = True
            threading.Thread(target=_flush_forever, name="log-flusher", daemon=True).start()


@lru_cache(maxsize=1)
def _register_fork_hooks() -> None:
    """Once per process: a child must not inherit (and write twice) lines waiting at fork time."""
    os.register_at_fork(before=_flush_all, after_in_child=_forked)


def _forked() -> None:
    """In a forked child: threads did not survive the fork, so the flusher must start again."""
    global _flusher_running
    _flusher_running = False


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_TICK_S)
        _flush_all(due_only=True)


def log_fields(logger: logging.Logger, level: int, message: str, fields: dict[str, Any]) -> None:
    """Log one line with context fields, as logger.log(..., extra=fields) would, but cheaply.

    This app's own JSON stream handler gets the encoded line directly: no LogRecord, no stack walk.
    Any other handler (a test's, the error file, one you add) still receives an ordinary LogRecord.
    """
    if not logger.isEnabledFor(level):
        return
    line = record = None
    for handler in logger.handlers:
        if level < handler.level:
            continue
        if isinstance(handler, JsonStreamHandler):
            if line is None:
                line = json_line(time.time(), logging.getLevelName(level), logger.name, message, fields)
            handler.write_line(line, urgent=level >= logging.WARNING)
        else:
            if record is None:
                record = logger.makeRecord(logger.name, level, "", 0, message, (), None, extra=fields)
            handler.handle(record)


def _owned(handler: logging.Handler, level: int) -> logging.Handler:
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
    interval = app.config["LOG_FLUSH_INTERVAL_MS"] / 1000
    logger.addHandler(_owned(JsonStreamHandler(sys.stdout, interval=interval), logging.NOTSET))
    path = app.config["ERROR_LOG_PATH"]
    if path:
        file_handler = RotatingFileHandler(path, maxBytes=ERROR_LOG_MAX_BYTES, backupCount=ERROR_LOG_BACKUPS)
        logger.addHandler(_owned(file_handler, logging.ERROR))
    logger.setLevel(level)
    logger.propagate = False
