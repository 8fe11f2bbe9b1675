"""gunicorn's threaded worker (gthread), changed for small requests and slow clients (gunicorn.conf.py).

gthread hands every kept-alive request from its poller thread to a pool thread, and lets pool threads run
Python at once: each hand-off is two thread switches, and threads holding ready requests take the GIL from
one another at every socket call (docs/performance.md). Threads stay, because a request waiting on MongoDB
must not hold up `/health` (docs/resilience.md); what changes is which thread serves what:

- **One thread serves the kept-alive connections.** After a response, a connection waits in the worker's
  lingering set (`deploy/lingering.py`) for up to `LINGER_S`. One pool thread, the leader, waits on the
  whole set and serves each request that arrives, in turn, itself: an event loop, with no hand-off. A
  connection idle for longer goes back to gthread's poller, so idle clients hold nothing. One whose last
  request took longer than `BATON_WAIT_S` (waiting on MongoDB) goes to a pool thread, which serves its next
  requests too while they follow within `SLOW_LINGER_S`. A pipelined request, read already, goes back to
  gthread's queue; when connections wait there and no thread is free, the leader queues itself behind
  them, as gthread would queue the kept-alive requests.
- **A stuck leader is replaced** (`deploy/succession.py`). A watchdog deposes a leader whose thread has
  waited on one request for `BATON_WAIT_S` (a client slow to send it, a slow MongoDB reply), or run on it
  for 20 ms: another pool thread leads, and the old one leaves when its request ends.
- **One request runs Python at a time, while it is quick.** A thread takes the worker's baton before it
  reads and serves a request, and gives it back after the response. While the holder has had it for less
  than `BATON_WAIT_S`, others wait for it; once longer, nobody waits, and concurrency is what gthread
  gives. New connections, served by other pool threads, queue on the baton once per request instead of on
  the GIL at every socket call.
- **Slow clients are cut off** after `GUNICORN_CLIENT_TIMEOUT` seconds, as nginx would
  (`deploy/client_timeouts.py`), and closing a connection never blocks the main thread (`deploy/closing.py`).

Parsing, limits, error answers, HTTP/2, graceful shutdown and the poller are gthread's own, unchanged. With
HTTP/2 enabled (`http_protocols`), or without epoll (not Linux), the worker is plain gthread.
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

from deploy.client_timeouts import ClientTimeouts
from deploy.closing import Closing
from deploy.lingering import LingeringSet
from deploy.lingering import readable_within as _readable
from deploy.succession import watch

LINGER_S = 0.05  # a kept-alive client's next request comes sooner under load; idle ones go back to the poller
# Longer than a quick request's Python work (0.05-0.3 ms), shorter than anyone would notice as latency.
BATON_WAIT_S = 0.002
SLOW_LINGER_S = 0.005  # a slow connection's thread waits this long for its next request
_KEPT = object()  # handle()'s result for a connection the worker kept: gthread's finish_request leaves it alone


class ServingWorker(ClientTimeouts, gthread.ThreadWorker):  # type: ignore[misc]  # gunicorn has no type hints
    """gthread with a leading thread, its watchdog, the baton, and limits for slow clients (module docstring)."""

    def init_process(self) -> None:
        """Set up the baton, the lingering set and the watchdog, then start as gthread does (does not return)."""
        self.baton = threading.Lock()
        self.baton_taken = 0.0  # time.monotonic() when the baton was last taken
        self.tuned = hasattr(select, "epoll") and "h2" not in self.cfg.http_protocols  # epoll: Linux only
        self.waiting: deque[None] = deque()  # one entry per connection handed to the pool, not yet started
        self.occupied: deque[None] = deque()  # one entry per pool thread at work
        self.leader = 0  # the leading thread's token; 0 while nobody leads
        self.busy: dict[int, tuple[int, int]] = {}  # leader's token -> (its request's number, its thread id)
        self.watched = threading.Event()  # set while leaders serve: the watchdog sleeps otherwise
        self._succession = threading.Lock()  # taken to become, leave or depose the leader
        self._tokens = itertools.count(1)
        self._requests = itertools.count()
        self.limit_clients(self.tuned)
        if self.tuned:
            self.lingering = LingeringSet(LINGER_S)
            threading.Thread(target=watch, args=(self, BATON_WAIT_S), name="leader-watchdog", daemon=True).start()
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
        self.occupied.append(None)
        try:
            # A new connection: wait for its first bytes without the baton, as gthread waits (then defers).
            fresh = not conn.initialized and not conn.data_ready
            if fresh and not conn.wait_for_data(gthread.DEFAULT_WORKER_DATA_TIMEOUT):
                return gthread._DEFER
            keep = self._serve_one(conn)
            # A slow connection's requests (waiting on MongoDB) are served in this thread while they follow
            # one another within SLOW_LINGER_S and nobody waits for a thread: no hand-off at all.
            while conn.slow and self._lingers(conn, keep) and not self.waiting and _readable(conn.sock, SLOW_LINGER_S):
                keep = self._serve_one(conn)
            if not self._lingers(conn, keep):
                return keep  # closed, stopping or read ahead: finish_request takes it from here
            if not self._park(conn):
                return False
            self._lead()
            return _KEPT
        finally:
            self.occupied.pop()

    def finish_request(self, conn: Any, fs: Any) -> None:
        """gthread's (main thread), except for a connection the worker kept, and for one to close: gthread waits
        here for its client to close too, up to 2 s, while every other connection waits (`deploy/closing.py`)."""
        result = None if fs.cancelled() or fs.exception() is not None else fs.result()
        if result is _KEPT:
            return
        if result is False:
            self.closing.close(conn.sock, self._closed)
            return
        super().finish_request(conn, fs)

    def _lingers(self, conn: Any, keep: Any) -> bool:
        """Whether a served connection waits in the lingering set: kept alive, nothing read ahead, not stopping."""
        return keep is True and self.alive and not conn.parser.unreader.buf.getvalue()

    def _park(self, conn: Any) -> bool:
        """Put a connection in the lingering set; False (logged) if epoll refuses it."""
        try:
            self.lingering.park(conn)
        except OSError:
            self.log.exception("Could not keep a connection alive; closing it")
            self.lingering.release(conn)
            return False
        return True

    def _hand_back(self, conn: Any, keep: Any) -> None:
        """Give a connection out of the lingering set back to gthread (main thread): its poller, or closed."""
        self.lingering.release(conn)
        done: Future[Any] = Future()
        done.set_result(keep)
        self.method_queue.defer(self.finish_request, conn, done)

    def run(self) -> None:
        """gthread's loop, which also waits for clients to close their side (`deploy/closing.py`)."""
        self.closing = Closing(self.poller)
        super().run()

    def murder_pending(self) -> None:
        """gthread's, and close the connections whose client had its time to close its side (main thread)."""
        super().murder_pending()
        self.closing.expire()

    def _closed(self) -> None:
        self.nr_conns -= 1  # gthread's count of open connections, kept by its main thread

    def _lead(self) -> None:
        """Serve the lingering connections until none is left, unless another thread leads already."""
        while self.lingering:
            with self._succession:
                if self.leader:
                    return
                self.leader = token = next(self._tokens)
            yielded = False
            try:
                yielded = self._serve_lingering(token)
            except Exception:
                self.log.exception("Error serving kept-alive connections; gthread's poller takes them over")
                for conn in self.lingering.take_all():
                    self._hand_back(conn, True)
            finally:
                with self._succession:
                    if self.leader == token:
                        self.leader = 0
            if yielded:
                # Connections wait for a thread: lead again behind them, as gthread queues kept-alive requests.
                with suppress(RuntimeError):  # the pool has shut down: the worker is stopping
                    self.tpool.submit(self._lead_in_pool)
                return
            # A connection parked while this thread was leaving found a leader still here: look again.

    def _lead_in_pool(self) -> None:
        """`_lead` as a pool task of its own, counted as a thread at work."""
        self.occupied.append(None)
        try:
            self._lead()
        finally:
            self.occupied.pop()

    def _serve_lingering(self, token: int) -> bool:
        """The leader's loop: serve what arrives, give back what stays idle; True when it yields to queued work."""
        thread = threading.get_native_id()
        while self.leader == token:
            if self.waiting and len(self.occupied) >= self.cfg.threads:
                return True  # connections wait and no thread is free: queue behind them
            for conn in self.lingering.expired(everything=not self.alive):
                self._hand_back(conn, True)  # idle, or the worker stops: gthread's keep-alive rules apply
            if not self.lingering:
                return False
            conn = self.lingering.claim()
            if conn is None:
                continue
            if self.leader != token:  # deposed while waiting: the connection is the new leader's
                self.lingering.put_back(conn)
                return False
            if conn.slow:  # its last request waited on something: a pool thread serves it, as in gthread
                self.enqueue_req(conn)
                continue
            self.busy[token] = (next(self._requests), thread)
            if not self.watched.is_set():  # after `busy`: the watchdog reads it after clearing (succession.watch)
                self.watched.set()
            try:
                keep = self._serve_one(conn)
            finally:
                del self.busy[token]
            if not self._lingers(conn, keep):
                self._hand_back(conn, keep)
            elif not self._park(conn):
                self._hand_back(conn, False)
        return False

    def depose(self, token: int) -> None:
        """Let another pool thread lead, if the leader is still `token` (deploy/succession.py)."""
        with self._succession:
            if self.leader != token:
                return
            self.leader = 0
        with suppress(RuntimeError):  # the pool has shut down: the worker is stopping
            self.tpool.submit(self._lead_in_pool)

    def _serve_one(self, conn: Any) -> Any:
        """Serve one request (gthread) holding the baton, unless its holder is stuck (module docstring)."""
        holds = self.baton.acquire(blocking=False)
        if not holds:
            # Wait for what is left of the holder's BATON_WAIT_S, or not at all once it has held the baton longer
            # (a slow client, a request waiting on MongoDB): one stuck request delays the others once.
            left = BATON_WAIT_S - (time.monotonic() - self.baton_taken)
            holds = left > 0 and self.baton.acquire(timeout=left)
        started = time.monotonic()
        if holds:
            self.baton_taken = started
        try:
            return self.handle_in_time(conn)
        finally:
            if holds:
                self.baton.release()
            conn.slow = time.monotonic() - started > BATON_WAIT_S
