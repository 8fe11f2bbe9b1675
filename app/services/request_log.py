"""The optional request log in MongoDB, written off the request path.

A request only puts its record on a bounded in-memory queue (microseconds, never a database call).
A background thread per process writes the queue in batches, each under a tight timeout. When the
queue is full or the database does not answer, records are dropped and counted (`request_log_dropped_total`
and a warning) rather than slowing or failing requests.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

import pymongo
from pymongo.database import Database
from pymongo.errors import PyMongoError

from app.services.metrics import metrics
from controller.audit import record_requests

CAPACITY = 10_000
BATCH_SIZE = 500
FLUSH_INTERVAL_S = 0.5
WRITE_TIMEOUT_S = 1.0


class RequestLogWriter:
    """Queue request records and write them to the log collection from a background thread."""

    def __init__(
        self,
        get_db: Callable[[], Database],
        logger: logging.Logger,
        *,
        capacity: int = CAPACITY,
        background: bool = True,
    ) -> None:
        """Queue up to `capacity` records; with `background=False` nothing is written until `flush()`."""
        self._background = background
        self._get_db = get_db
        self._logger = logger
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=capacity)
        self._lock = threading.Lock()
        self._pid: int | None = None
        self.dropped = 0

    def submit(self, record: dict[str, Any]) -> None:
        """Queue one record without blocking; drop it (counted) when the queue is full."""
        self._ensure_thread()
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self._drop(1, "queue full")

    def flush(self) -> int:
        """Write one batch of what is queued now; return how many records were written."""
        return self._write(self._take(BATCH_SIZE))

    def _take(self, limit: int) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        while len(batch) < limit:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[dict[str, Any]]) -> int:
        if not batch:
            return 0
        try:
            with pymongo.timeout(WRITE_TIMEOUT_S):
                return record_requests(self._get_db(), batch)
        except PyMongoError as error:
            self._drop(len(batch), f"database error: {error}")
            return 0

    def _ensure_thread(self) -> None:
        """Start the writer thread once per process (a forked worker starts its own)."""
        if not self._background or self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="request-log-writer", daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=FLUSH_INTERVAL_S)
            except queue.Empty:
                continue
            self._write([first, *self._take(BATCH_SIZE - 1)])

    def _drop(self, count: int, reason: str) -> None:
        before = self.dropped
        self.dropped += count
        metrics().dropped_logs.inc(count)
        # One warning per thousand drops is enough to notice without flooding the log.
        if before // 1000 != self.dropped // 1000 or before == 0:
            self._logger.warning("request log: dropped %d record(s) so far (%s)", self.dropped, reason)
