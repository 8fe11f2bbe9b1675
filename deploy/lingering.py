"""The kept-alive connections that wait for their next request in deploy/gunicorn_worker.py."""

from __future__ import annotations

import select
import threading
import time
from collections import deque
from contextlib import suppress
from typing import Any

_ARMED = select.EPOLLIN | select.EPOLLONESHOT if hasattr(select, "EPOLLONESHOT") else 0


class LingeringSet:
    """Connections waiting for their next request, each armed for one epoll event, each with a deadline.

    One event goes to one thread, once per request, and `claim` takes one at a time, so no thread holds
    events it has not served. Every change happens under one lock: the leader that claims and expires, the
    threads that park and the worker's hand-backs see the set, its deadlines and epoll agree. A
    connection's descriptor stays registered (disarmed) while it is served, until `release`.
    """

    def __init__(self, linger_s: float) -> None:
        self.linger_s = linger_s
        self._conns: dict[int, Any] = {}  # socket fd -> connection
        self._deadlines: deque[tuple[float, int, Any]] = deque()  # (end of its linger, fd, connection), oldest first
        self._poll = select.epoll()
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._conns)

    def park(self, conn: Any) -> None:
        """Add a connection, armed; raises OSError (and leaves the set as it was) if epoll refuses it."""
        fd = conn.sock.fileno()
        with self._lock:
            if getattr(conn, "polled", False):
                self._poll.modify(fd, _ARMED)
            else:
                self._poll.register(fd, _ARMED)
                conn.polled = True
            conn.linger_until = deadline = time.monotonic() + self.linger_s
            self._deadlines.append((deadline, fd, conn))
            self._conns[fd] = conn

    def claim(self) -> Any | None:
        """Wait until the next deadline at most for one connection with a request; take it out of the set."""
        with self._lock:
            wait = max(self._deadlines[0][0] - time.monotonic(), 0.0) if self._deadlines else self.linger_s
        for fd, _ in self._poll.poll(wait, 1):
            with self._lock:
                return self._conns.pop(fd, None)
        return None

    def put_back(self, conn: Any) -> None:
        """Return a claimed connection, armed again, for another thread to serve."""
        with self._lock:
            self._poll.modify(conn.sock.fileno(), _ARMED)
            self._conns[conn.sock.fileno()] = conn

    def expired(self, *, everything: bool = False) -> list[Any]:
        """Take out and return the connections idle past their linger (all of them with `everything`)."""
        expired = []
        now = time.monotonic()
        with self._lock:
            while self._deadlines and (everything or self._deadlines[0][0] <= now):
                deadline, fd, conn = self._deadlines.popleft()
                # Only the connection's latest deadline counts, and its descriptor may be another's by now.
                if conn.linger_until == deadline and self._conns.get(fd) is conn:
                    del self._conns[fd]
                    expired.append(conn)
        return expired

    def take_all(self) -> list[Any]:
        """Take out and return every connection."""
        with self._lock:
            conns = list(self._conns.values())
            self._conns.clear()
        return conns

    def release(self, conn: Any) -> None:
        """Stop watching a connection that is out of the set (before it goes back to gthread)."""
        with self._lock:
            if getattr(conn, "polled", False):
                conn.polled = False
                with suppress(OSError, ValueError):
                    self._poll.unregister(conn.sock.fileno())


def readable_within(sock: Any, seconds: float) -> bool:
    """Whether the socket has bytes (or end of stream) to read within `seconds`."""
    poller = select.poll()  # not select.select: it fails on descriptors above 1023
    try:
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(seconds * 1000))
    except (OSError, ValueError):  # closed meanwhile
        return False
