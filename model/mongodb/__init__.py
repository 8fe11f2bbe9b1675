"""MongoDB models, one class per collection, and the database initialisation they share."""

from __future__ import annotations

from pymongo.database import Database

from model.mongodb.account_token import AccountToken
from model.mongodb.audit_log import AuditLog
from model.mongodb.base import Document, IndexConflict, Model, utcnow
from model.mongodb.idempotency_key import IdempotencyKey
from model.mongodb.job_stat import JobStat
from model.mongodb.master_config import MasterConfig
from model.mongodb.migration import AppliedMigration, MigrationLock
from model.mongodb.post import Post
from model.mongodb.revoked_token import RevokedToken
from model.mongodb.schema import SchemaViolation, pending, violations
from model.mongodb.sent_mail import SentMail
from model.mongodb.user import User

# Every model that `flask db-init` sets up, in order.
MODELS: tuple[type[Model], ...] = (
    AuditLog,
    MasterConfig,
    User,
    RevokedToken,
    Post,
    AccountToken,
    SentMail,
    JobStat,
    IdempotencyKey,
    AppliedMigration,
    MigrationLock,
    # flask scaffold adds new models above this line
)


def missing_schema(db: Database) -> list[str]:
    """Return what `init_db` would create or update (empty when the database is up to date)."""
    return pending(db, MODELS)


def ping(db: Database) -> None:
    """Ask the server to answer; raises the driver's error when it cannot be reached."""
    db.command("ping")


def init_db(db: Database) -> list[str]:
    """Create or update every model's collection, validator, indexes and seeds; return what changed.

    Checks first that stored data fits every new unique index and validator: when it does not, raises
    SchemaViolation listing each problem, and changes nothing.
    """
    problems = violations(db, MODELS)
    if problems:
        raise SchemaViolation(problems)
    changes: list[str] = []
    for model in MODELS:
        changes += model.ensure_collection(db)
    return changes


__all__ = [
    "MODELS",
    "AccountToken",
    "AppliedMigration",
    "AuditLog",
    "Document",
    "IdempotencyKey",
    "IndexConflict",
    "JobStat",
    "MasterConfig",
    "MigrationLock",
    "Model",
    "Post",
    "RevokedToken",
    "SchemaViolation",
    "SentMail",
    "User",
    "init_db",
    "missing_schema",
    "ping",
    "utcnow",
]
