"""gunicorn's threaded worker (gthread) with two changes for small requests: `worker_class` in gunicorn.conf.py.

gthread hands every request of a kept-alive connection from its main thread's poller to a pool thread, and
lets every pool thread run Python at once. Under load both cost more than the request itself: each hand-off
is two thread switches, and threads that all hold ready requests take the GIL from one another at every
socket call, each time a futex wake and a context switch. Measured on a trivial WSGI app, 8 keep-alive
connections: 224 us of CPU per request with 8 threads, 120 with 1 (docs/performance.md). Threads stay,
because a request waiting on MongoDB must not hold up `/health` or the requests that need no database
(docs/resilience.md); what changes is when they run:

- **Keep-alive in the thread.** After a response the thread waits up to `LINGER_S` for the client's next
  request on the same connection and serves it itself, unless other connections wait for a thread; a
  pipelined request, read already, goes back to gthread's queue behind the others.
  A connection idle for longer goes back to the poller, as in gthread, so idle clients never hold a thread.
- **One request runs Python at a time, while it is quick.** A thread takes the worker's baton before it
  reads and serves a request, and gives it back after the response. While the holder has had it for less
  than `BATON_WAIT_S`, others wait for it; once longer (a client slow to send its request, a request
  waiting on MongoDB), nobody waits, and concurrency is what gthread gives. So the threads queue once per
  request, on the baton, instead of at every socket call, on the GIL, and a stuck request delays the
  others once, by at most `BATON_WAIT_S`.

Parsing, limits, error answers, HTTP/2, graceful shutdown and the poller are gthread's own, unchanged. With
HTTP/2 enabled (`http_protocols`) the worker is plain gthread: one HTTP/2 connection lives in one thread.
"""

from __future__ import annotations

import select
import threading
import time
from collections import deque
from contextlib import suppress
from typing import Any

from gunicorn.workers import gthread

# Under load a kept-alive client's next request follows its response within a round trip (tens to hundreds
# of µs on a LAN, more on a busy machine); an idle connection holds its thread this long, then goes back to
# the poller.
LINGER_S = 0.005
# Longer than a quick request's Python work (0.05-0.3 ms), shorter than anyone would notice as latency.
BATON_WAIT_S = 0.002


class ServingWorker(gthread.ThreadWorker):  # type: ignore[misc]  # gunicorn has no type hints
    """gthread with keep-alive served in the thread and the baton (module docstring)."""

    def init_process(self) -> None:
        """Create the baton, then start as gthread does (this call does not return until the worker stops)."""
        self.baton = threading.Lock()
        self.baton_taken = 0.0  # time.monotonic() when the baton was last taken
        self.waiting: deque[None] = deque()  # one entry per connection handed to the pool, not yet started
        self.tuned = "h2" not in self.cfg.http_protocols
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        """Hand a connection to the pool (gthread), counted while it waits for a thread."""
        self.waiting.append(None)  # deque appends and pops are atomic: no lock between threads
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        """Serve the requests of one connection while they keep coming; runs in a pool thread."""
        with suppress(IndexError):  # two threads took the last entry at once: it stays a count, never an error
            self.waiting.pop()
        if not self.tuned:
            return super().handle(conn)
        # A new connection: wait for its first bytes without the baton, as gthread waits (then defers).
        fresh = not conn.initialized and not conn.data_ready
        if fresh and not conn.wait_for_data(gthread.DEFAULT_WORKER_DATA_TIMEOUT):
            return gthread._DEFER
        while True:
            keep = self._serve_one(conn)
            if keep is not True or not self.alive or self.waiting:
                return keep  # closed, or others wait for a thread: gthread's finish_request takes it from here
            if conn.parser.unreader.buf.getvalue():
                # A pipelined request, read already: gthread queues it behind the others' requests, so that a
                # client pipelining hundreds of them does not keep this thread, and the GIL, to itself.
                return True
            if not _readable(conn.sock, LINGER_S):
                return True  # idle: back to the poller

    def _serve_one(self, conn: Any) -> Any:
        """Serve one request (gthread) holding the baton, unless its holder is stuck (module docstring)."""
        holds = self.baton.acquire(blocking=False)
        if not holds:
            # Wait for what is left of the holder's BATON_WAIT_S, or not at all once it has held the baton longer
            # (a slow client, a request waiting on MongoDB): one stuck request delays the others once.
            left = BATON_WAIT_S - (time.monotonic() - self.baton_taken)
            holds = left > 0 and self.baton.acquire(timeout=left)
        if holds:
            self.baton_taken = time.monotonic()
        try:
            return super().handle(conn)
        finally:
            if holds:
                self.baton.release()


def _readable(sock: Any, timeout: float) -> bool:
    """Whether the socket has bytes (or end of stream) to read within `timeout` seconds."""
    poller = select.poll()  # not select.select: it fails on descriptors above 1023
    try:
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    except (OSError, ValueError):  # closed meanwhile
        return False
