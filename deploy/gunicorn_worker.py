"""gunicorn's threaded worker (gthread) with two changes for small requests: `worker_class` in gunicorn.conf.py.

gthread hands every request of a kept-alive connection from its main thread's poller to a pool thread, and
lets every pool thread run Python at once. Under load both cost more than the request itself: each hand-off
is two thread switches, and threads that all hold ready requests take the GIL from one another at every
socket call, each time a futex wake and a context switch. Measured on the project, one worker: 190 us of
CPU per request with one kept-alive connection, 235-260 with four (docs/performance.md). Threads stay,
because a request waiting on MongoDB must not hold up `/health` or the requests that need no database
(docs/resilience.md); what changes is which thread serves what:

- **One thread serves the kept-alive connections while they are busy.** After a response, a connection
  waits in the worker's lingering set, up to `LINGER_S`, for its next request. One pool thread, the leader,
  waits on the whole set and serves each request that arrives, in turn, in its own thread: an event loop,
  with no hand-off. A connection idle for longer goes back to gthread's poller, so idle clients hold
  nothing; a pipelined request, read already, goes back to gthread's queue behind the others.
- **A stuck leader is replaced.** A watchdog thread looks at the leader every `BATON_WAIT_S` while there is
  one. A leader still on the same request (a client slow to send it, a request waiting on MongoDB) is
  deposed: another pool thread leads, and the old one leaves when its request ends. So a stuck request
  delays the other kept-alive connections once, by 2-4 ms.
- **One request runs Python at a time, while it is quick.** A thread takes the worker's baton before it
  reads and serves a request, and gives it back after the response. While the holder has had it for less
  than `BATON_WAIT_S`, others wait for it; once longer, nobody waits, and concurrency is what gthread
  gives. New connections and connections back from the poller, served by other pool threads, queue on the
  baton once per request instead of on the GIL at every socket call.

Parsing, limits, error answers, HTTP/2, graceful shutdown and the poller are gthread's own, unchanged. With
HTTP/2 enabled (`http_protocols`) the worker is plain gthread: one HTTP/2 connection lives in one thread.
"""

from __future__ import annotations

import itertools
import select
import threading
import time
from collections import deque
from concurrent.futures import Future
from contextlib import suppress
from typing import Any

from gunicorn.workers import gthread

# Under load a kept-alive client's next request follows its response within a round trip (tens to hundreds
# of µs on a LAN, more on a busy machine); an idle connection waits this long, then goes back to the poller.
LINGER_S = 0.005
# Longer than a quick request's Python work (0.05-0.3 ms), shorter than anyone would notice as latency.
BATON_WAIT_S = 0.002
_KEPT = object()  # handle()'s result for a connection the worker kept: gthread's finish_request leaves it alone
_ARMED = select.EPOLLIN | select.EPOLLONESHOT  # one event, to one thread, per request


class ServingWorker(gthread.ThreadWorker):  # type: ignore[misc]  # gunicorn has no type hints
    """gthread with a leading thread for kept-alive connections, its watchdog, and the baton (module docstring)."""

    def init_process(self) -> None:
        """Set up the baton, the lingering set and the watchdog, then start as gthread does (does not return)."""
        self.baton = threading.Lock()
        self.baton_taken = 0.0  # time.monotonic() when the baton was last taken
        self.tuned = "h2" not in self.cfg.http_protocols
        self.lingering: dict[int, Any] = {}  # socket fd -> connection waiting for its next request
        self.deadlines: deque[tuple[float, int, Any]] = deque()  # (end of its linger, fd, connection), oldest first
        self.linger_poll = select.epoll()
        self.leader = 0  # the leading thread's token; 0 while nobody leads
        self.serving: tuple[int, int] | None = None  # (leader's token, request number) while the leader serves
        self.led = threading.Event()  # set while somebody leads: the watchdog sleeps otherwise
        self._succession = threading.Lock()  # taken to become, leave or depose the leader
        self._tokens = itertools.count(1)
        self._requests = itertools.count()
        if self.tuned:
            threading.Thread(target=self._watch, name="leader-watchdog", daemon=True).start()
        super().init_process()

    def handle(self, conn: Any) -> Any:
        """Serve a request of a connection gthread handed over, then keep the connection; runs in a pool thread."""
        if not self.tuned:
            return super().handle(conn)
        # A new connection: wait for its first bytes without the baton, as gthread waits (then defers).
        fresh = not conn.initialized and not conn.data_ready
        if fresh and not conn.wait_for_data(gthread.DEFAULT_WORKER_DATA_TIMEOUT):
            return gthread._DEFER
        keep = self._serve_one(conn)
        if not self._lingers(conn, keep):
            return keep  # closed, stopping or read ahead: gthread's finish_request takes it from here
        self._park(conn)
        self._lead()
        return _KEPT

    def finish_request(self, conn: Any, fs: Any) -> None:
        """gthread's, except for a connection the worker kept (runs in the main thread)."""
        if not fs.cancelled() and fs.exception() is None and fs.result() is _KEPT:
            return
        super().finish_request(conn, fs)

    def _lingers(self, conn: Any, keep: Any) -> bool:
        """Whether a served connection waits in the lingering set: kept alive, nothing read ahead, not stopping."""
        return keep is True and self.alive and not conn.parser.unreader.buf.getvalue()

    def _park(self, conn: Any) -> None:
        """Put a connection in the lingering set, armed for one event."""
        fd = conn.sock.fileno()
        conn.linger_until = deadline = time.monotonic() + LINGER_S
        self.deadlines.append((deadline, fd, conn))
        self.lingering[fd] = conn  # before arming: the leader may see its event at once
        try:
            if getattr(conn, "polled", False):
                self.linger_poll.modify(fd, _ARMED)
            else:
                self.linger_poll.register(fd, _ARMED)
                conn.polled = True
        except OSError:
            self.lingering.pop(fd, None)
            raise

    def _hand_back(self, conn: Any, keep: Any) -> None:
        """Give a connection back to gthread (main thread): to its poller if kept alive, else closed."""
        if getattr(conn, "polled", False):
            conn.polled = False
            with suppress(OSError, ValueError):
                self.linger_poll.unregister(conn.sock.fileno())
        done: Future[Any] = Future()
        done.set_result(keep)
        self.method_queue.defer(self.finish_request, conn, done)

    def _lead(self) -> None:
        """Serve the lingering connections until none is left, unless another thread leads already."""
        while self.lingering:
            with self._succession:
                if self.leader:
                    return
                self.leader = token = next(self._tokens)
                self.led.set()
            try:
                self._serve_lingering(token)
            except Exception:
                self.log.exception("Error serving kept-alive connections; gthread's poller takes them over")
                with suppress(KeyError):
                    while True:
                        self._hand_back(self.lingering.popitem()[1], True)
            finally:
                with self._succession:
                    if self.leader == token:
                        self.leader = 0
                        self.led.clear()
            # A connection parked while this thread was leaving found a leader still here: look again.

    def _serve_lingering(self, token: int) -> None:
        """The leader's loop: wait on the lingering set, serve what arrives, give back what stays idle."""
        while self.leader == token:
            now = time.monotonic()
            while self.deadlines and (self.deadlines[0][0] <= now or not self.alive):
                deadline, fd, conn = self.deadlines.popleft()
                # Only if this is the connection's latest deadline, and the connection is still there: its
                # descriptor may be another connection's by now.
                current = conn.linger_until == deadline and self.lingering.get(fd) is conn
                if current and self.lingering.pop(fd, None) is conn:
                    self._hand_back(conn, True)  # idle, or the worker stops: gthread's keep-alive rules apply
            if not self.lingering:
                return
            events = self.linger_poll.poll(max(self.deadlines[0][0] - now, 0.0) if self.deadlines else LINGER_S)
            for position, (fd, _) in enumerate(events):
                if self.leader != token:
                    # Deposed: re-arm the events taken from the set, for the new leader.
                    for other, _ in events[position:]:
                        if other in self.lingering:
                            self.linger_poll.modify(other, _ARMED)
                    return
                conn = self.lingering.pop(fd, None)
                if conn is None:
                    continue
                self.serving = (token, next(self._requests))
                try:
                    keep = self._serve_one(conn)
                finally:
                    self.serving = None
                if self._lingers(conn, keep):
                    self._park(conn)
                else:
                    self._hand_back(conn, keep)

    def _watch(self) -> None:
        """Depose a leader seen on the same request for BATON_WAIT_S, and let another lead (the watchdog thread)."""
        seen = None
        while True:
            self.led.wait()
            time.sleep(BATON_WAIT_S)
            serving = self.serving
            if serving is None or serving != seen:
                seen = serving
                continue
            seen = None
            with self._succession:
                if self.leader != serving[0]:
                    continue
                self.leader = 0
                self.led.clear()
            with suppress(RuntimeError):  # the pool has shut down: the worker is stopping
                self.tpool.submit(self._lead)

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
