"""The schema check behind `get_db`: once per process, development upgrades, production refuses.

See app/services/database.py for when it runs, and docs/migrations.md for what it means to a deployment.
"""

from __future__ import annotations

import logging
import sys
import threading
import time

from pymongo.database import Database

from controller import schema
from model.mongodb import SchemaViolation

SCHEMA_RECHECK_S = 5.0  # while something lacks, the database is looked at again at most this often


class SchemaOutdated(Exception):
    """Raised when the database lacks collections, indexes or migrations the code needs."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"The database schema is out of date; run `{schema.FIX_COMMAND}`.")
        self.missing = missing


class SchemaCheck:
    """Remember, per process and server, that the schema is up to date; until then, check or upgrade it."""

    def __init__(self, logger: logging.Logger, *, upgrade: bool) -> None:
        self._logger = logger
        self._upgrade_on_use = upgrade
        self._ok: tuple[int, str] | None = None  # the (pid, uri) the schema was found up to date for
        self._missing: tuple[float, list[str]] | None = None  # what lacked, and when it was seen
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Check again at next use (the server was replaced)."""
        self._ok = None

    def check(self, database: Database, key: tuple[int, str]) -> None:
        """Return when the schema is up to date for `key`; raise SchemaOutdated while it lacks something."""
        if self._ok == key:
            return
        with self._lock:
            if self._ok == key:
                return
            seen = self._missing
            if seen is not None and time.monotonic() - seen[0] < SCHEMA_RECHECK_S:
                raise SchemaOutdated(seen[1])
            missing = (
                self._upgrade(database, quiet=seen is not None) if self._upgrade_on_use else schema.outdated(database)
            )
            if missing:
                if seen is None:
                    self._logger.error(
                        "database %r lacks %s; run `%s`", database.name, ", ".join(missing), schema.FIX_COMMAND
                    )
                self._missing = (time.monotonic(), missing)
                raise SchemaOutdated(missing)
            self._missing = None
            self._ok = key

    @staticmethod
    def _upgrade(database: Database, *, quiet: bool) -> list[str]:
        """Bring a development database up to date, printing what changed; return what still lacks."""
        try:
            changes = schema.upgrade(database)
        except SchemaViolation as violation:
            if not quiet:
                for problem in violation.problems:
                    print(f"database: {problem}", file=sys.stderr)
            return schema.outdated(database)
        for change in changes:
            print(f"database {database.name!r}: {change}", file=sys.stderr)
        return []
