"""The optional granian launcher (deploy/granian_server.py): metrics across workers, breaker, drain on SIGTERM.

Starts `python deploy/granian_server.py` with two workers in production mode against a MongoDB address
where nothing listens, so a database request is slow (it waits out MONGODB_TIMEOUT_MS, then answers 503)
and can be caught in flight.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

import orjson

from tests.base import uses_subprocesses

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 1500
METRICS_TOKEN = secrets.token_urlsafe(24)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@uses_subprocesses
class GranianServerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="granian-"))
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.metrics_dir = self.workdir / "metrics"
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("GRANIAN_", "MONGODB_"))},
            "FLASK_CONFIG": "production",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "MONGODB_URI": f"mongodb://127.0.0.1:{_free_port()}/granian?directConnection=true",
            "MONGODB_TIMEOUT_MS": str(TIMEOUT_MS),
            "MAIL_SERVER": "127.0.0.1",  # required in production; nothing here sends mail
            "METRICS_ENABLED": "true",
            "METRICS_TOKEN": METRICS_TOKEN,  # production serves /metrics only to a scraper with the token
            "GRANIAN_HOST": "127.0.0.1",
            "GRANIAN_PORT": str(port),
            "GRANIAN_WORKERS": "2",
            "GRANIAN_WORKERS_KILL_TIMEOUT": "10",
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
        }
        self.log = open(self.workdir / "server.log", "w+b")  # noqa: SIM115 (closed by cleanup)
        self.addCleanup(self.log.close)
        self.server = subprocess.Popen(
            [sys.executable, "deploy/granian_server.py"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        self.addCleanup(self._stop)
        self.answered = 0  # sample/add requests answered, the start-up probes included
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if _get(f"{self.base}/api/v1/sample/add?a=1&b=2")[0] == 200:
                    self.answered += 1
                    return
            except OSError:
                time.sleep(0.05)
        self.fail("the granian server did not start")

    def _stop(self) -> None:
        if self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGKILL)
        self.server.wait(10)

    def test_metrics_count_every_request_across_workers(self) -> None:
        def load() -> None:
            for _ in range(40):
                self.assertEqual(_get(f"{self.base}/api/v1/sample/add?a=2&b=3")[0], 200)

        threads = [threading.Thread(target=load) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.answered += 160

        status, body = _get(f"{self.base}/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})

        self.assertEqual(status, 200)
        count = re.search(
            rb'http_request_duration_seconds_count\{endpoint="/api/v1/sample/add",method="GET",status="200"\} ([\d.]+)',
            body,
        )
        if count is None:
            self.fail(f"no request count in /metrics:\n{body.decode()}")
        self.assertEqual(float(count.group(1)), self.answered)
        writers = {re.sub(r"\D", "", path.name) for path in self.metrics_dir.glob("histogram_*.db")}
        self.assertEqual(len(writers), 2, "both workers wrote samples")

    def test_breaker_answers_at_once_after_a_database_failure(self) -> None:
        answers: list[tuple[int, str, float]] = []
        for _ in range(6):  # each worker opens its own breaker on its first failure
            started = time.monotonic()
            status, body = _get(f"{self.base}/api/v1/posts/{'b' * 24}")
            answers.append((status, orjson.loads(body)["error"]["code"], time.monotonic() - started))
            if answers[-1][2] < TIMEOUT_MS / 1000 / 3:
                break

        self.assertEqual({(status, code) for status, code, _ in answers}, {(503, "database_unavailable")})
        self.assertLess(answers[-1][2], TIMEOUT_MS / 1000 / 3, f"no answer came at once: {answers}")

    def test_sigterm_lets_in_flight_request_finish(self) -> None:
        result: list[tuple[int, bytes]] = []
        in_flight = threading.Thread(target=lambda: result.append(_get(f"{self.base}/api/v1/posts/{'a' * 24}")))
        started = time.monotonic()
        in_flight.start()
        time.sleep(0.4)  # the request now waits on the database

        self.server.send_signal(signal.SIGTERM)
        in_flight.join(20)

        self.assertEqual(self.server.wait(20), 0)
        self.assertEqual(len(result), 1, "the in-flight request got an answer")
        status, body = result[0]
        self.assertEqual(status, 503)
        self.assertEqual(orjson.loads(body)["error"]["code"], "database_unavailable")
        self.assertGreaterEqual(time.monotonic() - started, TIMEOUT_MS / 1000)
        with self.assertRaises(OSError):
            _get(f"{self.base}/api/v1/sample/add?a=1&b=2")
        self.log.seek(0)
        self.assertIn(b'"message":"Granian shutdown completed', self.log.read())
