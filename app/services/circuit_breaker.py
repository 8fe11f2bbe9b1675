"""A circuit breaker for the database: fail fast while it is down, and find out in the background when it is back.

Closed (the normal state), every request reaches MongoDB. After `threshold` consecutive failures that
mean "the database cannot be reached in time", the breaker opens: requests that need the database are
answered 503 at once instead of each waiting MONGODB_TIMEOUT_MS, so workers stay free for everything
else (`/health`, pages, requests that need no database). While open, one background thread per process
pings the server once per `interval_s`; the first ping that succeeds closes the breaker. No request ever
waits on a probe.

State is per process (per gunicorn worker): each worker learns of an outage from its own failures and
probes on its own, which costs one ping per worker per interval and needs no shared storage.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

Probe = Callable[[float], None]


class DatabaseUnavailable(Exception):
    """Raised when the breaker is open: the database failed and has not answered a probe since."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("The database is unavailable; try again shortly.")
        self.retry_after = retry_after


class CircuitBreaker:
    """Count consecutive database failures, open after `threshold`, close on the first successful probe.

    `probe(timeout_s)` must raise when the database does not answer within `timeout_s`.
    """

    def __init__(self, *, threshold: int, interval_s: float, probe: Probe, logger: logging.Logger) -> None:
        self.threshold = max(1, threshold)
        self.interval_s = interval_s
        self.retry_after = max(1, math.ceil(interval_s))  # whole seconds, as Retry-After needs
        self.failures = 0
        self.is_open = False
        self.opened_at = 0.0
        self._probe = probe
        self._logger = logger
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise DatabaseUnavailable while the breaker is open (a single attribute read when closed)."""
        if self.is_open:
            raise DatabaseUnavailable(self.retry_after)

    def record_failure(self) -> None:
        """Count a failure; the one that reaches the threshold opens the breaker and starts the prober."""
        with self._lock:
            if self.is_open:
                return
            self.failures += 1
            if self.failures < self.threshold:
                return
            self.is_open = True
            self.opened_at = time.monotonic()
        self._logger.warning(
            "database circuit breaker opened after %d consecutive failures; probing every %.2f s",
            self.failures,
            self.interval_s,
        )
        threading.Thread(target=self._probe_until_closed, name="database-breaker-probe", daemon=True).start()

    def record_success(self) -> None:
        """Reset the count of consecutive failures (a request used the database without failing)."""
        if self.failures and not self.is_open:
            with self._lock:
                if not self.is_open:
                    self.failures = 0

    def _probe_until_closed(self) -> None:
        """Ping once per interval until a ping succeeds, then close the breaker."""
        while True:
            started = time.monotonic()
            try:
                self._probe(self.interval_s)
            except Exception as error:  # noqa: BLE001 (any failure means "still down"; the next probe decides)
                self._logger.debug("database probe failed: %s", error)
                time.sleep(max(0.0, self.interval_s - (time.monotonic() - started)))
                continue
            with self._lock:
                self.is_open = False
                self.failures = 0
            self._logger.warning(
                "database circuit breaker closed: the database answered after %.1f s",
                time.monotonic() - self.opened_at,
            )
            return
