"""Start `python -m deploy.prod` (nginx in front of gunicorn instances) against the test database server."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from controller.schema import upgrade
from deploy import nginx
from tests.base import mongo_uri

ROOT = Path(__file__).resolve().parents[2]
SERVING = re.compile(r"serving on http://(\S+) \(instances: (.+)\)")


def require_nginx() -> str:
    """Return the nginx binary, or skip the calling test when nginx is not installed."""
    try:
        return nginx.find_nginx()
    except nginx.NginxNotFound:
        raise unittest.SkipTest("nginx is not installed (apt-get install nginx; .ci/run installs it)") from None


def free_port() -> int:
    """Return a free TCP port of 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Topology:
    """The launcher as a subprocess: its output lines, the proxy's address, the instances' addresses."""

    def __init__(self, *, instances: int = 2, **settings: str) -> None:
        require_nginx()
        self.db_name = f"test_proxy_{secrets.token_hex(4)}"
        self.client: MongoClient = MongoClient(mongo_uri(), tz_aware=True)
        upgrade(self.client[self.db_name])
        self.port = free_port()
        env = {
            **os.environ,
            "FLASK_CONFIG": "production",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "MONGODB_URI": mongo_uri(),
            "MONGODB_DB": self.db_name,
            "GUNICORN_WORKERS": "2",
            "LOG_REQUESTS": "false",
            "MAIL_SERVER": "127.0.0.1",  # required in production; no job worker runs here, so nothing is sent
            # Argon2id at the testing config's cost: the production cost makes each login take 0.4 s here.
            "PASSWORD_HASH_TIME_COST": "1",
            "PASSWORD_HASH_MEMORY_KIB": "1024",
            "PASSWORD_HASH_PARALLELISM": "1",
            **settings,
        }
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.prod", "--port", str(self.port), "--instances", str(instances)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        try:
            match = SERVING.search(self.wait_for("serving on", timeout=90))
        except AssertionError:
            self.stop()
            raise
        assert match is not None  # noqa: S101
        self.base = f"http://{match.group(1)}"
        self.instances = match.group(2).split(", ")

    def _read(self) -> None:
        assert self.process.stdout is not None  # noqa: S101
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, *, count: int = 1, timeout: float = 60) -> str:
        """Wait until `count` output lines contain `text`; return the last of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in list(self.lines) if text in line]
            if len(found) >= count:
                return found[count - 1]
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        tail = "\n".join(self.lines[-15:])
        raise AssertionError(f"the launcher did not print {text!r} ({count}x); its output ends with:\n{tail}")

    def db(self) -> Any:
        """Return the topology's database."""
        return self.client[self.db_name]

    def stop(self) -> None:
        """Stop the launcher (it stops nginx and the instances) and drop the database."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.client.drop_database(self.db_name)
        self.client.close()
