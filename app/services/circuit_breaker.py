"""A circuit breaker for the database: fail fast while it is down, and find out in the background when it is back.

Closed (the normal state), every request reaches MongoDB. After `threshold` consecutive failures that
mean "the database cannot be reached in time", or at once when the driver reports that it lost the
server (it clears its connection pool: `ServerLossListener`), the breaker opens: requests that need the database are
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
import weakref
from collections.abc import Callable

from pymongo import monitoring

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
        """Count a failure; the one that reaches the threshold opens the breaker."""
        with self._lock:
            if self.is_open:
                return
            self.failures += 1
            if self.failures < self.threshold:
                return
            self._open()
        self._opened(f"after {self.failures} consecutive failures")

    def trip(self, reason: str) -> None:
        """Open the breaker now, whatever the count: the driver knows the server is gone."""
        with self._lock:
            if self.is_open:
                return
            self._open()
        self._opened(reason)

    def _open(self) -> None:
        """Mark the breaker open (with the lock held)."""
        self.is_open = True
        self.opened_at = time.monotonic()

    def _opened(self, reason: str) -> None:
        """Log the opening and start the one prober."""
        self._logger.warning("database circuit breaker opened %s; probing every %.2f s", reason, self.interval_s)
        threading.Thread(target=self._probe_until_closed, name="database-breaker-probe", daemon=True).start()

    def record_success(self) -> None:
        """Reset the count of consecutive failures (a request used the database without failing)."""
        if self.failures and not self.is_open:
            with self._lock:
                if not self.is_open:
                    self.failures = 0

    def reset(self) -> None:
        """Close the breaker and forget the failures: they were counted against a server since replaced."""
        with self._lock:
            self.is_open = False
            self.failures = 0

    def _probe_until_closed(self) -> None:
        """Ping once per interval until a ping succeeds, then close the breaker."""
        while True:
            started = time.monotonic()
            try:
                self._probe(self.interval_s)
            except Exception as error:
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


class ServerLossListener(monitoring.ConnectionPoolListener):
    """Trip the breakers of one client as soon as the driver clears its connection pool.

    The driver clears a server's pool when it loses the server: a connection reset, a refused
    connection, a failed heartbeat, a "not primary" error. It does so at once, in the thread that saw
    the failure (often its monitor, which notices a dead server within milliseconds), whereas a request
    would only give up after the whole server selection timeout. Without this listener, every request
    that arrives before the breaker opens waits that timeout; with it, only the requests already in
    flight do. The other pool events are ignored (a no-op call each, a few microseconds a request).
    """

    def __init__(self) -> None:
        self.breakers: weakref.WeakSet[CircuitBreaker] = weakref.WeakSet()

    def pool_cleared(self, event: monitoring.PoolClearedEvent) -> None:
        """Trip every breaker of this client: the driver has lost the server."""
        for breaker in list(self.breakers):
            breaker.trip(f"when the driver lost {event.address}")

    def pool_created(self, event: monitoring.PoolCreatedEvent) -> None:
        """Ignored."""

    def pool_ready(self, event: monitoring.PoolReadyEvent) -> None:
        """Ignored."""

    def pool_closed(self, event: monitoring.PoolClosedEvent) -> None:
        """Ignored."""

    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        """Ignored."""

    def connection_ready(self, event: monitoring.ConnectionReadyEvent) -> None:
        """Ignored."""

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        """Ignored."""

    def connection_check_out_started(self, event: monitoring.ConnectionCheckOutStartedEvent) -> None:
        """Ignored."""

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        """Ignored."""

    def connection_checked_out(self, event: monitoring.ConnectionCheckedOutEvent) -> None:
        """Ignored."""

    def connection_checked_in(self, event: monitoring.ConnectionCheckedInEvent) -> None:
        """Ignored."""
