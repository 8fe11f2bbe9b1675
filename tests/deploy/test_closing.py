"""deploy/closing.py under gunicorn: a client that keeps its socket open after `Connection: close` holds
nothing up, and its connection is still closed (half-closed at once, closed after the linger)."""

from __future__ import annotations

import os
import signal
import socket
import time

from deploy.closing import LINGER_S
from tests.base import uses_subprocesses
from tests.deploy.worker_server import WorkerServerCase


@uses_subprocesses
class ClosingTest(WorkerServerCase):
    """One worker with 2 threads."""

    def test_clients_slow_to_close_hold_up_neither_the_worker_nor_its_shutdown(self) -> None:
        # gthread lingers for each of them in its main thread: 6 x 2 s without accepting or answering anything.
        held = []
        for n in range(6):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            self.addCleanup(sock.close)
            sock.sendall(b"GET /?close=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % n)
            held.append(sock)
        for n, sock in enumerate(held):
            answer = b""
            while chunk := sock.recv(65536):  # ends when the server has half-closed the connection
                answer += chunk
            self.assertTrue(answer.endswith(b"close=%d" % n), answer)
        started = time.monotonic()
        self.assertEqual(self.get(self.connect(), "after=1"), "after=1")
        self.assertLess(time.monotonic() - started, 1.0)
        # The held connections still count until the linger ends, then SIGTERM has nothing to wait for.
        time.sleep(LINGER_S + 1.2)
        started = time.monotonic()
        os.killpg(self.server.pid, signal.SIGTERM)
        self.server.wait(15)
        self.assertLess(time.monotonic() - started, 5, "SIGTERM waited for connections already closed")
