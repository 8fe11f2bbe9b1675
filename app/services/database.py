"""The MongoDB connection: one client per process, created on first use, on a database known to be up to date.

The client is the only thing cached: a database or collection handle is a cheap view of it, taken
where it is needed (`client[name]`, `db[name]`).

On first use in each process the schema state is checked once, not per request (app/services/schema_check.py):
development brings the database up to date itself, printing what it did; production never changes the
schema: it logs one error line naming what is missing and the fix, and requests that need the database
(`/ready` included) answer 503 `schema_outdated` until it is fixed; testing trusts the tests.
In development the embedded server is also watched: when it has died, been stopped or lost its state file,
the next request or command finds it again or restarts it (see `dev/embedded_mongo.py`).
"""

from __future__ import annotations

import atexit
import linecache
import os
import threading
from pathlib import Path
from typing import Any

import pymongo
from flask import Flask, current_app, g
from pymongo import MongoClient, uri_parser
from pymongo.database import Database

from app.services.circuit_breaker import CircuitBreaker, ServerLossListener
from app.services.schema_check import SchemaCheck, SchemaOutdated
from model.mongodb import ping

DEFAULT_DB_NAME = "app"
__all__ = ["SchemaOutdated", "get_db", "get_raw_db", "init_app"]

# pymongo checks a server selection's deadline only every 0.5 s (MIN_HEARTBEAT_INTERVAL), so a wait can
# overrun by that much; selection gets this much less than the budget so the whole operation keeps to it.
SELECTION_OVERRUN_MS = 500

_clients: dict[tuple[Any, ...], tuple[MongoClient, ServerLossListener]] = {}
_clients_lock = threading.Lock()


def _client_for(uri: str, options: dict[str, Any]) -> tuple[MongoClient, ServerLossListener]:
    """Return this process's client for `uri` and the listener that reports server losses to breakers.

    The pid is part of the key: a client must never cross a fork (gunicorn workers), so a forked
    child builds its own.
    """
    key = (os.getpid(), uri, tuple(sorted(options.items())))
    entry = _clients.get(key)
    if entry is None:
        with _clients_lock:
            entry = _clients.get(key)
            if entry is None:
                if not _clients:
                    # Runs before the exit hook of an embedded server started earlier (hooks run last
                    # in, first out), so a server stopping at exit is not mistaken for an outage.
                    atexit.register(_close_clients)
                listener = ServerLossListener()
                entry = _clients[key] = (MongoClient(uri, event_listeners=[listener], **options), listener)
                # pymongo formats the creating call stack (for its "unclosed client" warning), which
                # reads every source file on that stack into linecache: about 0.7 MB per worker, kept
                # for nothing (docs/performance.md).
                linecache.clearcache()
    return entry


def _forget_client(uri: str, options: dict[str, Any], breaker: CircuitBreaker) -> None:
    """Detach `breaker` from this process's client for `uri` (a replaced development server)."""
    entry = _clients.get((os.getpid(), uri, tuple(sorted(options.items()))))
    if entry is not None:
        entry[1].breakers.discard(breaker)


def _close_clients() -> None:
    """Close this process's clients (at interpreter exit)."""
    for client, _ in list(_clients.values()):
        client.close()


class Mongo:
    """Give an app its database handle, resolving the server and checking the schema on first use."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        self._uri: str | None = config["MONGODB_URI"]
        self._env = config["ENV_NAME"]
        self._instance_dir = Path(app.instance_path)
        self._db_name: str | None = config["MONGODB_DB"]
        self._dev_server: dict[str, int] | None = None  # the embedded server in use (development)
        self.embedded = self._uri is None and self._env == "development"
        self.schema = SchemaCheck(app.logger, upgrade=self._env == "development")
        timeout = config["MONGODB_TIMEOUT_MS"]
        self._options: dict[str, Any] = {
            "tz_aware": True,
            "connect": False,
            "serverSelectionTimeoutMS": max(timeout - SELECTION_OVERRUN_MS, timeout // 2),
            "connectTimeoutMS": timeout,
            # Client-side operation timeout: bounds every operation, retries included, so a request
            # never hangs on a database that is down. Long jobs (migrations) widen it with pymongo.timeout().
            "timeoutMS": timeout,
            "w": _write_concern(config["MONGODB_WRITE_CONCERN"]),
            "retryWrites": True,
            "appname": config["APP_NAME"],
        }
        self.breaker = CircuitBreaker(
            threshold=config["MONGODB_BREAKER_THRESHOLD"],
            interval_s=config["MONGODB_BREAKER_PROBE_MS"] / 1000,
            probe=self.ping,
            logger=app.logger,
        )

    @property
    def uri(self) -> str:
        """Return the configured URI, or find (start, restart) the embedded server and return its URI."""
        if self._uri is not None:
            return self._uri
        # Production never gets here: its config refuses to load without MONGODB_URI.
        # Imported here: the embedded server is a development tool, not part of the production image.
        from dev import embedded_mongo

        if self._env == "testing":
            self._uri = embedded_mongo.memory_server_uri()
            return self._uri
        state = self._dev_server
        if state is None or not embedded_mongo.dev_server_recorded(self._instance_dir, state):
            # First use, or the server died, was stopped or lost its state file: find or restart it.
            self._dev_server = found = embedded_mongo.ensure_dev_server_state(self._instance_dir)
            if state is not None and found != state:
                # The old server's client must no longer trip this app's breaker when it notices the loss.
                _forget_client(embedded_mongo.server_uri(state["port"]), self._options, self.breaker)
            state = found
            self.schema.forget()  # a restarted server may hold a fresh, empty data directory
            self.breaker.reset()  # its failures were the old server's
        return embedded_mongo.server_uri(state["port"])

    @property
    def client(self) -> MongoClient:
        """Return this process's client, whose losses of the server trip this app's breaker."""
        client, listener = _client_for(self.uri, self._options)
        listener.breakers.add(self.breaker)
        return client

    @property
    def raw_db(self) -> Database:
        """Return the app's database without checking its schema (for db-init and the like)."""
        if self._db_name is None:
            self._db_name = uri_parser.parse_uri(self.uri)["database"] or DEFAULT_DB_NAME
        return self.client[self._db_name]

    @property
    def db(self) -> Database:
        """Return the app's database: MONGODB_DB, else the one named in the URI, else "app"."""
        database = self.raw_db
        if self._env != "testing":
            self.schema.check(database, (os.getpid(), self.uri))  # an attribute read once up to date
        return database

    def ping(self, timeout_s: float) -> None:
        """Ping the server within `timeout_s`; raise the driver's error when it does not answer."""
        database = self.raw_db  # outside the budget: finding or restarting a development server takes longer
        with pymongo.timeout(timeout_s):
            ping(database)


def _write_concern(value: str) -> int | str:
    """Accept "majority" or a number of nodes, as in a connection string's `w` option."""
    return int(value) if value.isdigit() else value


def init_app(app: Flask) -> None:
    """Attach the database handle and its circuit breaker to `app`."""
    app.extensions["mongo"] = Mongo(app)
    app.teardown_request(_record_outcome)


def get_db() -> Database:
    """Return the current app's database, up to date (SchemaOutdated, a 503, when it is not).

    Raises DatabaseUnavailable at once while the breaker is open.
    """
    mongo: Mongo = current_app.extensions["mongo"]
    if mongo.embedded:
        mongo.uri  # noqa: B018  # development: finds or restarts a stopped or dead server before the breaker's say
    breaker = mongo.breaker
    breaker.check()
    if breaker.failures:  # only then is it worth noting that this request used the database
        g.database_used = True
    return mongo.db


def get_raw_db() -> Database:
    """Return the current app's database as it is: for the commands that create or inspect the schema."""
    mongo: Mongo = current_app.extensions["mongo"]
    return mongo.raw_db


def record_failure() -> None:
    """Count the current request's database failure (it could not reach the database in time)."""
    g.database_failed = True
    mongo: Mongo = current_app.extensions["mongo"]
    mongo.breaker.record_failure()


def _record_outcome(exc: BaseException | None) -> None:
    """After a request that used the database without failing, reset the breaker's failure count."""
    breaker = current_app.extensions["mongo"].breaker
    if breaker.failures and g.get("database_used") and not g.get("database_failed"):
        breaker.record_success()
