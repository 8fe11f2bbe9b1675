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
        self.waiting: deque[None] = deque()  # one entry per connection handed to the pool, not yet started
        # The lingering set: connections waiting for their next request, their deadlines and their epoll
        # registrations, changed together under `parking`. A connection is in `lingering` only while armed.
        self.lingering: dict[int, Any] = {}  # socket fd -> connection
        self.deadlines: deque[tuple[float, int, Any]] = deque()  # (end of its linger, fd, connection), oldest first
        self.linger_poll = select.epoll()
        self.parking = threading.Lock()
        self.leader = 0  # the leading thread's token; 0 while nobody leads
        self.busy: dict[int, int] = {}  # leader's token -> number of the request it is serving
        self.led = threading.Event()  # set while somebody leads: the watchdog sleeps otherwise
        self._succession = threading.Lock()  # taken to become, leave or depose the leader
        self._tokens = itertools.count(1)
        self._requests = itertools.count()
        if self.tuned:
            threading.Thread(target=self._watch, name="leader-watchdog", daemon=True).start()
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:
        """Hand a connection to the pool (gthread), counted while it waits for a thread."""
        self.waiting.append(None)  # deque appends and pops are atomic: no lock between threads
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        """Serve a request of a connection gthread handed over, then keep the connection; runs in a pool thread."""
        with suppress(IndexError):  # two threads took the last entry at once: it stays a count, never an error
            self.waiting.pop()
        if not self.tuned:
            return super().handle(conn)
        # A new connection: wait for its first bytes without the baton, as gthread waits (then defers).
        fresh = not conn.initialized and not conn.data_ready
        if fresh and not conn.wait_for_data(gthread.DEFAULT_WORKER_DATA_TIMEOUT):
            return gthread._DEFER
        keep = self._serve_one(conn)
        if not self._lingers(conn, keep):
            return keep  # closed, stopping or read ahead: gthread's finish_request takes it from here
        if not self._park(conn):
            return False
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

    def _park(self, conn: Any) -> bool:
        """Put a connection in the lingering set, armed for one event; False if epoll refuses it (logged)."""
        fd = conn.sock.fileno()
        with self.parking:
            try:
                if getattr(conn, "polled", False):
                    self.linger_poll.modify(fd, _ARMED)
                else:
                    self.linger_poll.register(fd, _ARMED)
                    conn.polled = True
            except OSError:
                self.log.exception("Could not keep a connection alive; closing it")
                return False
            conn.linger_until = deadline = time.monotonic() + LINGER_S
            self.deadlines.append((deadline, fd, conn))
            self.lingering[fd] = conn
        return True

    def _hand_back(self, conn: Any, keep: Any) -> None:
        """Give a connection out of the lingering set back to gthread (main thread): its poller, or closed."""
        with self.parking:
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
            yielded = False
            try:
                yielded = self._serve_lingering(token)
            except Exception:
                self.log.exception("Error serving kept-alive connections; gthread's poller takes them over")
                with self.parking:
                    stranded = list(self.lingering.values())
                    self.lingering.clear()
                for conn in stranded:
                    self._hand_back(conn, True)
            finally:
                with self._succession:
                    if self.leader == token:
                        self.leader = 0
                        self.led.clear()
            if yielded:
                # Connections wait for a thread: lead again behind them, as gthread queues kept-alive requests.
                with suppress(RuntimeError):  # the pool has shut down: the worker is stopping
                    self.tpool.submit(self._lead)
                return
            # A connection parked while this thread was leaving found a leader still here: look again.

    def _serve_lingering(self, token: int) -> bool:
        """The leader's loop: serve what arrives, give back what stays idle; True when it yields to queued work."""
        while self.leader == token:
            self._expire(everything=not self.alive)
            if not self.lingering:
                return False
            with self.parking:
                wait = max(self.deadlines[0][0] - time.monotonic(), 0.0) if self.deadlines else LINGER_S
            events = self.linger_poll.poll(wait)
            for position, (fd, _) in enumerate(events):
                if self.leader != token or self.waiting:
                    with self.parking:  # re-arm the events taken from the set, for whoever leads next
                        for other, _ in events[position:]:
                            if other in self.lingering:
                                self.linger_poll.modify(other, _ARMED)
                    return self.leader == token
                with self.parking:
                    conn = self.lingering.pop(fd, None)
                if conn is None:
                    continue
                self.busy[token] = next(self._requests)
                try:
                    keep = self._serve_one(conn)
                finally:
                    del self.busy[token]
                if not self._lingers(conn, keep):
                    self._hand_back(conn, keep)
                elif not self._park(conn):
                    self._hand_back(conn, False)
        return False

    def _expire(self, *, everything: bool) -> None:
        """Give back to gthread's poller the connections idle past their linger (all of them when stopping)."""
        expired = []
        now = time.monotonic()
        with self.parking:
            while self.deadlines and (everything or self.deadlines[0][0] <= now):
                deadline, fd, conn = self.deadlines.popleft()
                # Only the connection's latest deadline counts, and its descriptor may be another's by now.
                if conn.linger_until == deadline and self.lingering.get(fd) is conn:
                    del self.lingering[fd]
                    expired.append(conn)
        for conn in expired:
            self._hand_back(conn, True)

    def _watch(self) -> None:
        """Depose a leader seen on the same request for BATON_WAIT_S, and let another lead (the watchdog thread)."""
        seen = None
        while True:
            self.led.wait()
            time.sleep(BATON_WAIT_S)
            token = self.leader
            serving = (token, self.busy.get(token))
            if not token or serving[1] is None or serving != seen:
                seen = serving
                continue
            seen = None
            with self._succession:
                if self.leader != token:
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
