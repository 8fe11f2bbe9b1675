"""Closing connections as RFC 9112 section 9.6 asks, without holding any thread (deploy/gunicorn_worker.py).

A server that closes a connection first half-closes it, then reads until the client closes its side, so
that bytes the client sent meanwhile do not make the kernel reset the connection and destroy the end of
the response. gunicorn does that read (`util.close_graceful`, up to 2 s) in gthread's main thread: every
client that received `Connection: close` and kept its socket open stopped the worker from accepting or
dispatching anything for 2 s, and ten such clients stopped it for 20. Here the main thread's poller waits
for the clients' close instead, alongside everything else.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from functools import partial

LINGER_S = 2.0  # gunicorn's close_graceful: how long a client gets to close its side
MAX_DRAIN = 65536  # and how much it may send meanwhile


class Closing:
    """Half-closed connections waiting, in gthread's poller, for their client to close; main thread only."""

    def __init__(self, poller: selectors.BaseSelector) -> None:
        self.poller = poller
        self._waiting: deque[_Client] = deque()  # in deadline order: every client gets LINGER_S

    def close(self, sock: socket.socket, closed: Callable[[], None]) -> None:
        """Half-close `sock`, then close it when its client has, or after LINGER_S; then call `closed`."""
        client = _Client(sock, closed, time.monotonic() + LINGER_S)
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            self.poller.register(sock, selectors.EVENT_READ, partial(self._readable, client))
        except (OSError, ValueError):  # gone already
            client.finish(None)
            return
        self._waiting.append(client)

    def expire(self) -> None:
        """Close the connections whose client has had its LINGER_S."""
        now = time.monotonic()
        while self._waiting and self._waiting[0].deadline <= now:
            self._waiting.popleft().finish(self.poller)

    def _readable(self, client: _Client, _sock: socket.socket) -> None:
        try:
            data = client.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        client.drained += len(data)
        if not data or client.drained >= MAX_DRAIN:
            client.finish(self.poller)  # left in the deque: finishing again does nothing


class _Client:
    __slots__ = ("closed", "deadline", "drained", "sock")

    def __init__(self, sock: socket.socket, closed: Callable[[], None] | None, deadline: float) -> None:
        self.sock, self.closed, self.deadline, self.drained = sock, closed, deadline, 0

    def finish(self, poller: selectors.BaseSelector | None) -> None:
        """Close the socket and report it, once."""
        if self.closed is None:
            return
        if poller is not None:
            with suppress(KeyError, ValueError, OSError):
                poller.unregister(self.sock)
        self.sock.close()
        closed, self.closed = self.closed, None
        closed()
