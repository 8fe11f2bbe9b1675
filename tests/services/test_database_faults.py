"""Faults: the database stops under a running gunicorn, then comes back.

This starts a database server of its own (durable, on disk) and `gunicorn manage:application` with two
workers in production mode, then kills the database with SIGKILL in the middle of the run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

import orjson
from pymongo import MongoClient

from controller.schema import upgrade
from controller.user import signup
from dev import embedded_mongo
from tests.base import uses_subprocesses
from tests.utils.factories import PASSWORD, auth_settings
from tests.utils.servers import start_group

WRITES = 20
ADMIN_EMAIL = "admin@example.com"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _call(
    url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], float]:
    """Send a request; return the status, the JSON body and the seconds it took."""
    data = orjson.dumps(body) if body is not None else None
    headers = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, orjson.loads(raw), time.monotonic() - started


@uses_subprocesses
class GunicornDatabaseCase(unittest.TestCase):
    """Give each test a durable database of its own and `gunicorn manage:application` (production) on it."""

    # Settings for gunicorn and the app on top of the test's own; the developer's GUNICORN_* and
    # MONGODB_* variables are never passed on, so the test runs the shipped defaults.
    extra_env: ClassVar[dict[str, str]] = {}

    def setUp(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="faults-"))
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.db_port = _free_port()
        self.database = self.start_database()
        self.uri = f"mongodb://127.0.0.1:{self.db_port}/faults?directConnection=true"
        with MongoClient(self.uri) as client:
            upgrade(client.faults)  # db-init and db-migrate: production serves only an up-to-date schema
            # Changing the author needs an admin.
            signup(client.faults, auth_settings(), email=ADMIN_EMAIL, password=PASSWORD, name="Admin", role="admin")
        self.app_port = _free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "MONGODB_"))},
            "FLASK_CONFIG": "production",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "MONGODB_URI": self.uri,
            "MAIL_SERVER": "127.0.0.1",
            "GUNICORN_BIND": f"127.0.0.1:{self.app_port}",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_DRAIN_S": "0",  # no load balancer to drain for: stop at once
            "LOG_REQUESTS": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics"),
            **self.extra_env,
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.server = start_group([str(gunicorn), "manage:application"], env)
        self.addCleanup(self.stop_gunicorn)
        self.base = f"http://127.0.0.1:{self.app_port}"
        self.wait_until(lambda: self.try_status("/health") == 200, "gunicorn did not start")

    def start_database(self) -> subprocess.Popen:
        log = open(self.workdir / "db.log", "ab")  # noqa: SIM115 (kept open for the server's lifetime)
        self.addCleanup(log.close)
        process, _ = embedded_mongo.start_server(str(self.workdir / "data"), log, durable=True, port=self.db_port)
        # Killed, not stopped: the test has read what it needs, and SIGTERM takes seconds with clients connected.
        self.addCleanup(lambda: process.poll() is None and (process.kill(), process.wait(10)))
        return process

    def stop_gunicorn(self) -> None:
        os.killpg(self.server.pid, signal.SIGTERM)
        self.server.wait(30)

    def try_status(self, path: str) -> int | None:
        try:
            return _call(self.base + path)[0]
        except OSError:
            return None

    def wait_until(self, condition: Any, message: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                self.fail(message)
            time.sleep(0.1)

    def worker_pids(self) -> set[int]:
        children = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children").read_text().split()
        return {int(pid) for pid in children}


class DatabaseOutageTest(GunicornDatabaseCase):
    def test_outage_answers_503_fast_keeps_workers_and_recovers_without_losing_writes(self) -> None:
        login = {"email": ADMIN_EMAIL, "password": PASSWORD}
        token = _call(f"{self.base}/api/v1/auth/login", "POST", login)[1]["access_token"]
        admin = {"Authorization": f"Bearer {token}"}
        for index in range(WRITES):
            status, _, _ = _call(f"{self.base}/api/v1/sample/author", "PUT", {"name": f"writer {index}"}, admin)
            self.assertEqual(status, 200)
        workers = self.worker_pids()
        self.assertEqual(len(workers), 2)

        self.database.send_signal(signal.SIGKILL)
        self.database.wait()

        for _ in range(4):  # enough requests to reach both workers
            status, body, seconds = _call(f"{self.base}/api/v1/sample/author")
            self.assertEqual(status, 503)
            self.assertEqual(body["error"]["code"], "database_unavailable")
            self.assertLess(seconds, 4.0, "a request must not hang on a dead database")
        status, body, _ = _call(f"{self.base}/ready")
        self.assertEqual((status, body["error"]["status"]), (503, 503))
        self.assertEqual(_call(f"{self.base}/health")[0], 200)
        self.assertEqual(_call(f"{self.base}/api/v1/sample/add?a=1&b=2")[1], {"result": 3})
        self.assertEqual(self.worker_pids(), workers, "workers must stay up")

        self.database = self.start_database()
        self.wait_until(lambda: self.try_status("/ready") == 200, "the app did not recover")
        # /ready reached one worker; each worker's breaker closes on its own next probe, so wait until
        # requests that reach both workers succeed (a body that is not the author is reported, not a KeyError).
        self.wait_until(
            lambda: all(self.try_status("/api/v1/sample/author") == 200 for _ in range(4)),
            "a worker did not recover",
        )
        status, body, _ = _call(f"{self.base}/api/v1/sample/author")
        self.assertEqual((status, body.get("name")), (200, f"writer {WRITES - 1}"), body)
        self.assertEqual(self.worker_pids(), workers)
        with MongoClient(self.uri) as client:
            self.assertEqual(client.faults.logs.count_documents({"event": "author.updated"}), WRITES)
