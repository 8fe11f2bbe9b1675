"""The database circuit breaker: open after failures, fail fast while open, close on the first good probe."""

from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import threading
import time
import unittest
from collections.abc import Callable

from app import create_app
from app.services.circuit_breaker import CircuitBreaker, DatabaseUnavailable
from dev import embedded_mongo
from tests.base import ApiTestCase

LOGGER = logging.getLogger("tests.breaker")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class Server:
    """A stand-in for the database that the probe reaches: down until `up` is set."""

    def __init__(self) -> None:
        self.up = threading.Event()
        self.probes = 0

    def ping(self, timeout_s: float) -> None:
        self.probes += 1
        if not self.up.is_set():
            raise ConnectionError("down")


class CircuitBreakerTest(unittest.TestCase):
    def make(self, server: Server, threshold: int = 3, interval_s: float = 0.05) -> CircuitBreaker:
        return CircuitBreaker(threshold=threshold, interval_s=interval_s, probe=server.ping, logger=LOGGER)

    def test_breaker_opens_after_threshold_consecutive_failures(self) -> None:
        breaker = self.make(Server())
        with self.assertLogs(LOGGER, "WARNING"):
            for _ in range(2):
                breaker.record_failure()
                breaker.check()  # still closed
            breaker.record_failure()
        with self.assertRaises(DatabaseUnavailable) as raised:
            breaker.check()
        self.assertEqual(raised.exception.retry_after, 1)

    def test_breaker_success_resets_the_count_of_failures(self) -> None:
        breaker = self.make(Server())
        for _ in range(5):
            breaker.record_failure()
            breaker.record_failure()
            breaker.record_success()
        breaker.check()
        self.assertFalse(breaker.is_open)
        self.assertEqual(breaker.failures, 0)

    def test_breaker_probes_once_per_interval_and_closes_on_first_success(self) -> None:
        server = Server()
        breaker = self.make(server, threshold=1, interval_s=0.1)
        with self.assertLogs(LOGGER, "WARNING") as logs:
            breaker.record_failure()
            time.sleep(0.55)
            self.assertTrue(breaker.is_open)
            probes_while_down = server.probes
            server.up.set()
            self.assertTrue(_wait_for(lambda: not breaker.is_open))
        self.assertIn(probes_while_down, range(2, 9))  # about one per 0.1 s, never a busy loop
        self.assertIn("closed", logs.output[-1])
        breaker.check()
        time.sleep(0.3)
        self.assertEqual(server.probes, probes_while_down + 1, "the prober stops once the breaker is closed")

    def test_breaker_runs_one_prober_however_many_failures(self) -> None:
        server = Server()
        breaker = self.make(server, threshold=1, interval_s=0.1)
        with self.assertLogs(LOGGER, "WARNING"):
            for _ in range(50):
                breaker.record_failure()
            time.sleep(0.35)
            server.up.set()
            self.assertTrue(_wait_for(lambda: not breaker.is_open))
        self.assertLessEqual(server.probes, 6)


class DatabaseBreakerTest(ApiTestCase):
    """The breaker of a real app against a port where the database is down, then comes up."""

    def test_breaker_answers_503_at_once_then_recovers_when_the_database_starts(self) -> None:
        port = _free_port()
        app = create_app(
            "testing",
            {"MONGODB_URI": f"mongodb://127.0.0.1:{port}/breaker?directConnection=true", "MONGODB_TIMEOUT_MS": 3000},
        )
        client = app.test_client()
        with self.assertLogs(app.logger, "WARNING") as logs:
            first = client.get("/api/v1/sample/author")  # waits MONGODB_TIMEOUT_MS, then opens the breaker
            self.assertError(first, 503, "database_unavailable")
            started = time.monotonic()
            second = client.get("/api/v1/sample/author")
            ready = client.get("/ready")
            waited = time.monotonic() - started
            self.assertError(second, 503, "database_unavailable")
            self.assertEqual(second.headers["Retry-After"], "1")
            self.assertError(ready, 503, "database_unavailable")
            self.assertLess(
                waited, 1.5, "an open breaker must not wait for the database"
            )  # generous: 2 x 3 s without it
            self.assertEqual(client.get("/health").status_code, 200)

            workdir = tempfile.mkdtemp(prefix="breaker-")
            self.addCleanup(shutil.rmtree, workdir, True)
            log = open(f"{workdir}/db.log", "ab")  # noqa: SIM115 (open for the server's lifetime)
            self.addCleanup(log.close)
            process, _ = embedded_mongo.start_server(":memory:", log, durable=False, port=port)
            self.addCleanup(lambda: (process.terminate(), process.wait(10)))
            breaker = app.extensions["mongo"].breaker
            self.assertTrue(_wait_for(lambda: not breaker.is_open), "the breaker did not close")
        self.assertTrue(any("closed" in line for line in logs.output))
        self.assertEqual(client.get("/ready").status_code, 200)
