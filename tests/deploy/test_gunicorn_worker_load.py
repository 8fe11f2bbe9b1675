"""deploy/gunicorn_worker.py with the production thread count, many clients at once: requests stuck in the
leading thread, threads held by slow clients, and workers recycled under load."""

from __future__ import annotations

import http.client
import socket
import threading
import time

from tests.base import uses_subprocesses
from tests.deploy.worker_server import WorkerServerCase


class Clients:
    """Kept-alive clients sending requests back to back for `seconds`, each checking its own answers."""

    def __init__(self, case: WorkerServerCase, count: int, seconds: float) -> None:
        self.case, self.deadline = case, time.monotonic() + seconds
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(number,)) for number in range(count)]
        for thread in self.threads:
            thread.start()

    def _run(self, number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.case.port, timeout=10)
        n = 0
        while time.monotonic() < self.deadline:
            n += 1
            started = time.monotonic()
            try:
                connection.request("GET", f"/?c={number}&n={n}")
                response = connection.getresponse()
                body = response.read().decode()
            except (OSError, http.client.HTTPException) as error:
                self.failures.append(f"client {number} request {n}: {error!r}")
                connection.close()
                continue
            self.latencies.append(time.monotonic() - started)
            if body != f"c={number}&n={n}":
                self.failures.append(f"client {number} request {n}: answered {body!r}")
            if response.getheader("Connection", "").lower() == "close":
                connection.close()  # a recycled worker closes its connections: the next request reconnects
        connection.close()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(60)


@uses_subprocesses
class ServingWorkerUnderLoadTest(WorkerServerCase):
    """One worker, 8 threads as in production."""

    threads = 8

    def slow_senders(self, count: int, pause: float, seconds: float) -> list[threading.Thread]:
        """Kept-alive clients that send half of each request, pause, then the rest."""

        def send(number: int) -> None:
            with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    request = f"GET /?slow={number} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                    sock.sendall(request[:12])
                    time.sleep(pause)
                    sock.sendall(request[12:])
                    received = b""
                    while not received.endswith(f"slow={number}".encode()):
                        chunk = sock.recv(4096)
                        self.assertTrue(chunk)
                        received += chunk

        senders = [threading.Thread(target=send, args=(number,)) for number in range(count)]
        for thread in senders:
            thread.start()
        return senders

    def test_requests_stuck_in_the_leading_thread_hold_the_others_up_briefly(self) -> None:
        # Each slow request gets stuck in whichever thread leads; a new one must take over every time.
        senders = self.slow_senders(3, pause=0.5, seconds=3)
        clients = Clients(self, 10, seconds=3)
        clients.join()
        for thread in senders:
            thread.join(30)
        self.assertEqual(clients.failures, [])
        self.assertLess(max(clients.latencies), 0.25, "a kept-alive client waited for a slow request")

    def test_new_connections_get_a_thread_while_slow_clients_hold_the_others(self) -> None:
        held = []
        for _ in range(7):  # 7 of the 8 threads wait for requests that never end
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            self.addCleanup(sock.close)
            sock.sendall(b"GET /?held=1 HTTP/1.1\r\nHost: x\r\nX-Pending: ")
            held.append(sock)
        time.sleep(0.3)
        clients = Clients(self, 4, seconds=2)  # keeps the one free thread busy with kept-alive requests
        slowest = 0.0
        for n in range(20):
            started = time.monotonic()
            self.assertEqual(self.get(self.connect(), f"new={n}"), f"new={n}")
            slowest = max(slowest, time.monotonic() - started)
        clients.join()
        self.assertEqual(clients.failures, [])
        self.assertLess(slowest, 0.5, "a new connection waited for the kept-alive clients to stop")


@uses_subprocesses
class RecycledWorkerTest(WorkerServerCase):
    """Workers recycled after 150 requests, under load."""

    threads = 8
    settings = {"GUNICORN_MAX_REQUESTS": "150", "GUNICORN_GRACEFUL_TIMEOUT": "30"}

    def test_every_request_is_answered_while_workers_are_recycled(self) -> None:
        clients = Clients(self, 10, seconds=4)
        clients.join()
        self.assertEqual(clients.failures, [])
        self.assertGreater(len(clients.latencies), 600, "fewer requests than four recycled workers")
        self.assertLess(max(clients.latencies), 2.0, "a recycled worker kept a request waiting")
