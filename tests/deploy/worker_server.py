"""One gunicorn worker with the project's gunicorn.conf.py and worker class, serving tests/deploy/worker_app.py."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import unittest
from pathlib import Path

from tests.deploy.harness import free_port
from tests.utils.servers import stop_group

ROOT = Path(__file__).resolve().parents[2]


class WorkerServerCase(unittest.TestCase):
    """Starts the server for each test: `threads` threads, and `settings` (GUNICORN_* variables) on top."""

    threads = 2
    settings: dict[str, str] = {}

    def setUp(self) -> None:
        self.port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_")},
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": str(self.threads),
            "GUNICORN_DRAIN_S": "0",
            **self.settings,
        }
        self.server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "tests.deploy.worker_app:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.addCleanup(self.server.stdout.close)  # type: ignore[union-attr]
        self.addCleanup(stop_group, self.server)
        self.output = b""
        deadline = time.monotonic() + 30
        while b"Booting worker" not in self.output:
            self.assertLess(time.monotonic(), deadline, self.output)
            self.output += self.server.stdout.readline()  # type: ignore[union-attr]
        self.wait_for_port()

    def wait_for_port(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                self.assertLess(time.monotonic(), deadline, "gunicorn is not listening")
                time.sleep(0.02)

    def connect(self, timeout: float = 5) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        self.addCleanup(connection.close)
        return connection

    def get(self, connection: http.client.HTTPConnection, query: str) -> str:
        connection.request("GET", f"/?{query}")
        response = connection.getresponse()
        self.assertEqual(response.status, 200)
        return response.read().decode()
