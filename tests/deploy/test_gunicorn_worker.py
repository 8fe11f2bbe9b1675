"""deploy/gunicorn_worker.py under `gunicorn` with the project's gunicorn.conf.py: kept-alive connections,
pipelining, the baton's bound on waiting, and shutdown with a connection open."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import threading
import time
import unittest

from deploy.gunicorn_worker import BATON_WAIT_S, LINGER_S
from tests.base import uses_subprocesses
from tests.deploy.worker_server import WorkerServerCase


@uses_subprocesses
class ServingWorkerTest(WorkerServerCase):
    """One gunicorn worker with 2 threads serving tests/deploy/worker_app.py."""

    def test_production_config_uses_the_serving_worker(self) -> None:
        self.assertIn(b"Using worker: deploy.gunicorn_worker.ServingWorker", self.output)

    def test_kept_alive_connection_serves_every_request_in_order(self) -> None:
        connection = self.connect()
        self.assertEqual(self.get(connection, "n=0"), "n=0")
        sock = connection.sock
        for n in range(1, 300):
            if n % 100 == 0:
                time.sleep(LINGER_S * 10)  # idle past the linger: the poller keeps the connection, then serves it
            self.assertEqual(self.get(connection, f"n={n}"), f"n={n}")
        self.assertIs(connection.sock, sock, "the connection was closed and reopened")

    def test_pipelined_requests_are_all_answered_in_order(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(b"".join(b"GET /?p=%d HTTP/1.1\r\nHost: x\r\n\r\n" % n for n in range(5)))
            received = b""
            while received.count(b"HTTP/1.1 200") < 5 or not received.endswith(b"p=4"):
                chunk = sock.recv(65536)
                self.assertTrue(chunk, received)
                received += chunk
        bodies = [part.rsplit(b"\r\n\r\n", 1)[1][:3] for part in received.split(b"HTTP/1.1 200")[1:]]
        self.assertEqual(bodies, [b"p=%d" % n for n in range(5)])

    def test_a_waiting_request_holds_others_up_by_the_baton_wait_at_most(self) -> None:
        slow = threading.Thread(target=lambda: self.get(http.client.HTTPConnection("127.0.0.1", self.port), "sleep=2"))
        slow.start()
        self.addCleanup(slow.join)
        time.sleep(0.3)  # the slow request is in the app now, holding the baton
        connection = self.connect()
        started = time.monotonic()
        self.assertEqual(self.get(connection, "fast=1"), "fast=1")
        self.assertLess(time.monotonic() - started, 1.0, f"waited for the slow request (baton wait {BATON_WAIT_S} s)")
        self.assertTrue(slow.is_alive(), "the slow request was not in flight")

    def test_a_waiting_request_on_a_kept_alive_connection_does_not_hold_up_the_others(self) -> None:
        # Both connections are kept alive, so the leading thread serves both; the slow request must not keep
        # the other connection's requests waiting until it ends.
        waiting, other = self.connect(), self.connect()
        self.assertEqual(self.get(waiting, "n=0"), "n=0")
        self.assertEqual(self.get(other, "n=0"), "n=0")
        slow = threading.Thread(target=lambda: self.get(waiting, "sleep=2"))
        slow.start()
        self.addCleanup(slow.join)
        time.sleep(0.3)
        started = time.monotonic()
        for n in range(1, 51):
            self.assertEqual(self.get(other, f"n={n}"), f"n={n}")
        self.assertLess(time.monotonic() - started, 1.0, "the kept-alive requests waited for the slow one")
        self.assertTrue(slow.is_alive(), "the slow request was not in flight")

    def test_more_kept_alive_clients_than_threads_are_all_answered_in_order(self) -> None:
        answers: dict[int, list[str]] = {}

        def client(number: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                answers[number] = [self.get(connection, f"c={number}&n={n}") for n in range(40)]
            finally:
                connection.close()

        clients = [threading.Thread(target=client, args=(number,)) for number in range(12)]  # on 2 threads
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(60)
        self.assertEqual(answers, {c: [f"c={c}&n={n}" for n in range(40)] for c in range(12)})

    def test_connections_closed_by_their_clients_are_released(self) -> None:
        # gunicorn stops accepting at worker_connections (1000) open connections: any leak shows up here.
        for n in range(1100):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            self.assertEqual(self.get(connection, f"n={n}"), f"n={n}")
            connection.close()
            if n % 2:
                time.sleep(LINGER_S * 2)  # half of them close after the linger, from gthread's poller

    def test_a_connection_on_a_closed_connections_descriptor_is_served(self) -> None:
        # The closed connection's descriptor goes to the next one while the closed one's linger is still due.
        for n in range(100):
            closed = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            self.assertEqual(self.get(closed, f"n={n}"), f"n={n}")
            closed.close()
            time.sleep(LINGER_S / 5)
            kept = self.connect()
            self.assertEqual(self.get(kept, f"first={n}"), f"first={n}")
            time.sleep(LINGER_S * 2)
            self.assertEqual(self.get(kept, f"second={n}"), f"second={n}")
            kept.close()

    def test_a_slow_client_delays_the_others_once_not_on_every_request(self) -> None:
        def timed_requests() -> float:
            connection = self.connect()
            started = time.monotonic()
            for n in range(300):
                self.assertEqual(self.get(connection, f"n={n}"), f"n={n}")
            return time.monotonic() - started

        alone = timed_requests()
        slow = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.addCleanup(slow.close)
        slow.sendall(b"GET /?slow=1 HTTP/1.1\r\nHost: x\r\nX-Pending: ")  # headers never finished: holds a thread
        time.sleep(0.2)
        beside_slow = timed_requests()
        # Waiting for the baton on each of the 300 requests would add 300 x BATON_WAIT_S (0.6 s).
        self.assertLess(beside_slow, alone * 1.5 + 300 * BATON_WAIT_S / 3, (alone, beside_slow))

    def test_stops_promptly_with_a_kept_alive_connection_open(self) -> None:
        connection = self.connect()
        self.assertEqual(self.get(connection, "n=1"), "n=1")
        started = time.monotonic()
        os.killpg(self.server.pid, signal.SIGTERM)
        self.server.wait(15)
        self.assertLess(time.monotonic() - started, 5, "SIGTERM waited for the idle kept-alive connection")
        self.assertEqual(self.server.returncode, 0)


if __name__ == "__main__":
    unittest.main()
