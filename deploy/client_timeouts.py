"""Time limits for clients that reach gunicorn directly, without nginx in front (deploy/gunicorn_worker.py).

gthread reads a request and writes its response in a pool thread, with blocking socket calls and no time
limit: a client that sends part of a request and stops, drips it a byte at a time, or stops reading its
response holds that thread as long as it likes, and a few dozen such clients hold every thread of every
worker. nginx (deploy/nginx.conf) cuts such clients off after 10 s; these limits do the same for gunicorn:

`GUNICORN_CLIENT_TIMEOUT` sets the limit in seconds (default 10; 0: none). It applies to plain HTTP/1.1 on
Linux, the worker's own mode: with HTTP/2 or TLS served by gunicorn itself, gthread's behaviour stays.

- **The request head** (request line and headers) must have arrived `timeout_s` after the thread started
  reading it, however it trickles in. The worker's main loop checks about once a second (`HeadDeadlines`):
  a late head's reading is shut down, and the thread answers a JSON 408 and closes the connection.
- **Every later read or write** (the body, the response) must make progress within `timeout_s`
  (`TimedSocket`): a stalled one fails like a connection reset, which gunicorn closes quietly; a body the
  app was reading gets the app's JSON 408 (app/http/errors.py).
"""

from __future__ import annotations

import errno
import os
import select
import socket
import threading
import time
from contextlib import suppress
from typing import Any

from gunicorn import util

DEFAULT_TIMEOUT_S = 10.0  # nginx's client_header_timeout, client_body_timeout and send_timeout here


class ClientTimedOut(ConnectionResetError, TimeoutError):
    """A read or write on a client's socket made no progress in time.

    A reset to gunicorn (closed quietly, not logged as an error), a timeout to whoever tells them apart.
    """


# The C methods, called as functions: a method override adds this much less to every read and write.
_recv, _send, _DONTWAIT = socket.socket.recv, socket.socket.send, socket.MSG_DONTWAIT


class TimedSocket(socket.socket):
    """A client socket whose reads and writes, in blocking mode, wait at most `limit_s` for the client.

    The class of an accepted socket while a request's body is read and its response written (the same
    layout, other methods); a plain socket while the head is read, which has its deadline as a whole. Each
    call first tries without waiting (MSG_DONTWAIT), so a client that keeps up costs no extra system call,
    and waits only when it does not (a socket with a timeout would poll before every call). In timeout or
    non-blocking mode (gunicorn's own drains, the closing poller) it is a plain socket whose timeouts are
    ClientTimedOut.
    """

    __slots__ = ()
    limit_s = DEFAULT_TIMEOUT_S

    def recv(self, size: int, flags: int = 0) -> bytes:
        """socket.recv, waiting at most the limit for a byte."""
        if self.gettimeout() is None:
            try:  # not contextlib.suppress: this runs on every read
                return _recv(self, size, flags | _DONTWAIT)
            except BlockingIOError:
                pass
        return self._within_limit(_recv, size, flags, select.POLLIN)  # type: ignore[no-any-return]

    def send(self, data: bytes, flags: int = 0) -> int:  # type: ignore[override]
        """socket.send, waiting at most the limit for room to send."""
        if self.gettimeout() is None:
            try:
                return _send(self, data, flags | _DONTWAIT)
            except BlockingIOError:
                pass
        return self._within_limit(_send, data, flags, select.POLLOUT)  # type: ignore[no-any-return]

    def sendall(self, data: bytes, flags: int = 0) -> None:  # type: ignore[override]
        """Send everything, waiting at most the limit between two sends (nginx's send_timeout)."""
        sent = self.send(data, flags)
        if isinstance(data, bytes) and sent == len(data):
            return  # the usual case: one send
        with memoryview(data) as view, view.cast("B") as whole:
            while sent < len(whole):
                sent += self.send(whole[sent:], flags)  # type: ignore[arg-type]

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        """socket.sendfile (static files), each wait for the client bounded by the limit."""
        blocking = self.gettimeout() is None
        if blocking:
            self.settimeout(self.limit_s)
        try:
            return super().sendfile(file, offset, count)
        except TimeoutError as error:
            raise self._given_up("the client read nothing in time", select.POLLOUT) from error
        finally:
            if blocking:
                self.settimeout(None)

    def _within_limit(self, call: Any, argument: Any, flags: int, event: int) -> Any:
        """The call once the client has made progress, within the limit (blocking mode); plain in other modes."""
        if self.gettimeout() is not None:  # gunicorn's timeout mode, or non-blocking
            try:
                return call(self, argument, flags)
            except TimeoutError as error:
                raise self._given_up("the client made no progress in time", event) from error
        while True:
            poller = select.poll()
            poller.register(self, event)
            if not poller.poll(self.limit_s * 1000):
                raise self._given_up("the client made no progress in time", event)
            with suppress(BlockingIOError):
                return call(self, argument, flags | _DONTWAIT)

    def _given_up(self, why: str, event: int = select.POLLIN) -> ClientTimedOut:
        """Stop reading from the client (its graceful close then waits for nothing), and writing to it too if it
        is the write that stalled (else the app may still answer, 408); return the error to raise."""
        with suppress(OSError):
            self.shutdown(socket.SHUT_RD if event == select.POLLIN else socket.SHUT_RDWR)
        return ClientTimedOut(errno.ECONNRESET, why)


class HeadDeadlines:
    """The request heads being read, one per pool thread, each with its deadline."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._reading: dict[int, tuple[float, socket.socket]] = {}  # thread -> (deadline, socket)
        self._late: set[int] = set()  # threads whose head was cut off, until they answer it

    def start(self, sock: socket.socket) -> None:
        """This thread starts reading a request head from `sock`."""
        with self._lock:
            self._reading[threading.get_ident()] = (time.monotonic() + self.timeout_s, sock)

    def arrived(self) -> bool:
        """This thread has read the whole head: False if too late (its reading was shut down meanwhile)."""
        thread = threading.get_ident()
        with self._lock:
            self._reading.pop(thread, None)
            return thread not in self._late

    def is_late(self) -> bool:
        """Whether this thread's head was cut off."""
        return threading.get_ident() in self._late

    def finish(self) -> bool:
        """This thread is done with its request: whether its head was cut off (it owes the client a 408)."""
        thread = threading.get_ident()
        with self._lock:
            self._reading.pop(thread, None)
            late = thread in self._late
            self._late.discard(thread)
        return late

    def cut_off_late(self) -> None:
        """Shut down the reading of every head past its deadline: the blocked read returns at once."""
        now = time.monotonic()
        with self._lock:  # under the lock: a thread that has its head already is never cut off
            for thread, (deadline, sock) in list(self._reading.items()):
                if deadline > now:
                    continue
                del self._reading[thread]
                self._late.add(thread)
                with suppress(OSError):  # closed meanwhile
                    sock.shutdown(socket.SHUT_RD)


class ClientTimeouts:
    """The limits, for a gthread worker class: `limit_clients` at start, `handle_in_time` instead of `handle`."""

    heads: HeadDeadlines | None = None

    def limit_clients(self, tuned: bool) -> None:
        """Set the limits up, unless they are off or the worker is plain gthread (`tuned` False)."""
        timeout_s = float(os.environ.get("GUNICORN_CLIENT_TIMEOUT") or DEFAULT_TIMEOUT_S)
        if tuned and timeout_s > 0 and not self.cfg.is_ssl:  # type: ignore[attr-defined]
            self.heads = HeadDeadlines(timeout_s)
            TimedSocket.limit_s = timeout_s

    def handle_in_time(self, conn: Any) -> Any:
        """gthread's `handle`, within the head's deadline: a late head is answered 408, and the connection closed."""
        if self.heads is None:
            return super().handle(conn)  # type: ignore[misc]
        if conn.sock.__class__ is TimedSocket:
            conn.sock.__class__ = socket.socket  # type: ignore[assignment]  # the head has its own deadline
        self.heads.start(conn.sock)
        try:
            keep = super().handle(conn)  # type: ignore[misc]
        finally:
            late = self.heads.finish()
        if late:
            with suppress(OSError):  # gunicorn.conf.py makes this the app's JSON envelope
                util.write_error(conn.sock, 408, "Request Timeout", "The request was not received in time.")
            return False
        return keep

    def handle_request(self, req: Any, conn: Any) -> Any:
        """gthread's, once the head has arrived in time; the body and the response get the timeout per read/write."""
        if self.heads is not None:
            if not self.heads.arrived():
                return False  # cut off meanwhile: handle_in_time answers 408
            if conn.sock.__class__ is socket.socket:
                conn.sock.__class__ = TimedSocket  # the same layout: only its methods change
        return super().handle_request(req, conn)  # type: ignore[misc]

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Any) -> None:
        """gthread's, except for a head cut off for being late: handle_in_time answers that one 408."""
        if self.heads is None or not self.heads.is_late():
            super().handle_error(req, client, addr, exc)  # type: ignore[misc]

    def murder_pending(self) -> None:
        """gthread's, and cut off the request heads past their deadline (main thread, about once a second)."""
        super().murder_pending()  # type: ignore[misc]
        if self.heads is not None:
            self.heads.cut_off_late()
