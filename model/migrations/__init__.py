"""Versioned schema migrations and the runner behind `flask db-migrate`.

A migration is a module `model/migrations/NNNN_description.py` with `up(db)` and, where it can be
undone, `down(db)`. Migrations run in name order, each at most once per database: every applied one is
recorded in `schema_migrations`. A lease in `migration_lock` lets only one process migrate at a time,
so every host of a deployment may run `flask db-migrate` at start-up.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.database import Database

from model.mongodb import AppliedMigration, MigrationLock

_NAME = re.compile(r"\d{4}_[a-z0-9_]+")
LEASE = timedelta(minutes=15)


class MigrationError(Exception):
    """Raised when migrations cannot be loaded, applied or reverted."""


@dataclass(frozen=True)
class Migration:
    """One migration module."""

    name: str
    up: Callable[[Database], None]
    down: Callable[[Database], None] | None
    description: str


def discover(package: str = __name__) -> list[Migration]:
    """Load the migrations of `package`, in name order; refuse two with the same number."""
    module = importlib.import_module(package)
    names = sorted(info.name for info in pkgutil.iter_modules(module.__path__) if _NAME.fullmatch(info.name))
    numbers = [name[:4] for name in names]
    duplicates = sorted({number for number in numbers if numbers.count(number) > 1})
    if duplicates:
        raise MigrationError(f"two migrations share the number(s) {', '.join(duplicates)}")
    migrations = []
    for name in names:
        loaded = importlib.import_module(f"{package}.{name}")
        if not callable(getattr(loaded, "up", None)):
            raise MigrationError(f"migration {name} has no up(db) function")
        summary = (loaded.__doc__ or "").strip().splitlines()
        migrations.append(Migration(name, loaded.up, getattr(loaded, "down", None), summary[0] if summary else ""))
    return migrations


def status(db: Database, migrations: list[Migration]) -> list[tuple[str, datetime | None, str]]:
    """Return (name, applied_at or None, description) for every known and every applied migration."""
    applied = AppliedMigration(db).applied()
    rows = [(m.name, applied.get(m.name, {}).get("created_at"), m.description) for m in migrations]
    known = {m.name for m in migrations}
    rows += [
        (name, entry["created_at"], "(applied, but its module is missing)")
        for name, entry in applied.items()
        if name not in known
    ]
    return sorted(rows)


@contextmanager
def locked(db: Database, *, wait_s: float) -> Iterator[None]:
    """Hold the migration lock for the block, waiting up to `wait_s` seconds for another holder."""
    lock = MigrationLock(db)
    owner = f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}"
    deadline = time.monotonic() + wait_s
    while not lock.acquire(owner, lease=LEASE):
        if time.monotonic() >= deadline:
            holder = lock.holder()
            raise MigrationError(f"another process holds the migration lock: {holder[0] if holder else 'unknown'}")
        time.sleep(0.2)
    try:
        yield
    finally:
        lock.release(owner)


def migrate(db: Database, migrations: list[Migration], *, wait_s: float = 60) -> list[str]:
    """Apply every pending migration in order under the lock; return the names applied."""
    done: list[str] = []
    with locked(db, wait_s=wait_s):
        applied = AppliedMigration(db).applied()
        for migration in migrations:
            if migration.name in applied:
                continue
            started = time.perf_counter()
            migration.up(db)
            AppliedMigration(db).record(migration.name, duration_ms=(time.perf_counter() - started) * 1000)
            done.append(migration.name)
    return done


def rollback(db: Database, migrations: list[Migration], *, wait_s: float = 60) -> str | None:
    """Revert the most recently applied migration with its down(db); return its name, or None."""
    by_name = {m.name: m for m in migrations}
    with locked(db, wait_s=wait_s):
        applied = AppliedMigration(db).applied()
        if not applied:
            return None
        name = max(applied)
        migration = by_name.get(name)
        if migration is None or migration.down is None:
            raise MigrationError(f"migration {name} cannot be reverted: it has no down(db)")
        migration.down(db)
        AppliedMigration(db).delete(name)
        return name
