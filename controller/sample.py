"""The sample author setting and the audit log behind it."""

from __future__ import annotations

from typing import Any

from pymongo.database import Database

from controller.errors import NotFound
from controller.serialize import public
from model.mongodb import AuditLog, MasterConfig

AUTHOR_KEY = "author"


def get_author(db: Database) -> dict[str, Any]:
    """Return the author's name and when it last changed."""
    entry = MasterConfig(db).get_entry(AUTHOR_KEY)
    if entry is None:
        raise NotFound("no author is set; run `flask db-init`")
    return {"name": entry["value"], "updated_at": entry["updated_at"]}


def set_author(db: Database, *, name: str, request_id: str | None = None, actor: str | None = None) -> dict[str, Any]:
    """Change the author's name and record the change in the audit log."""
    settings = MasterConfig(db)
    before = settings.set_value(AUTHOR_KEY, name)
    AuditLog(db).write(
        "author.updated",
        detail={"old": before["value"] if before else None, "new": name},
        request_id=request_id,
        actor=actor,
    )
    return get_author(db)


def list_logs(db: Database, *, limit: int) -> list[dict[str, Any]]:
    """Return the newest `limit` log entries, newest first."""
    return [public(entry, hidden=frozenset({"updated_at"})) for entry in AuditLog(db).latest(limit)]
