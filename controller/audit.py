"""Writing request records to the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.database import Database

from model.mongodb import AuditLog


def record_requests(db: Database, entries: Sequence[dict[str, Any]]) -> int:
    """Append request records (as the request log collects them) to the log; return how many were written."""
    return AuditLog(db).write_many("http.request", entries)
