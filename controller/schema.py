"""The database's schema state: what the code needs that the database lacks, and bringing it up to date."""

from __future__ import annotations

from pymongo.database import Database

from model import migrations
from model.mongodb import init_db, missing_schema

FIX_COMMAND = "flask db-init && flask db-migrate"


def outdated(db: Database) -> list[str]:
    """Return what the database lacks: collections, validators, named indexes, seeds, migrations (empty: none)."""
    missing = missing_schema(db)
    missing += [
        f"migration {name}" for name, applied_at, _ in migrations.status(db, migrations.discover()) if not applied_at
    ]
    return missing


def upgrade(db: Database) -> list[str]:
    """Apply `db-init` and every pending migration; return what changed, one line each.

    Raises `model.mongodb.SchemaViolation` (nothing changed) when stored data stops db-init.
    """
    changes = init_db(db)
    changes += [f"applied migration {name}" for name in migrations.migrate(db, migrations.discover())]
    return changes
