"""A rolling restart under write load: `make prod`'s SIGHUP restarts both instances behind nginx, one at a time.

Each instance is taken out of nginx's rotation, then sent SIGTERM: it fails /ready for GUNICORN_DRAIN_S while
still serving, finishes what it has and exits; it is started again and put back before the next one goes.
Skipped where nginx is not installed.
"""

from __future__ import annotations

import signal
import threading
import time
import unittest
from collections import Counter

from bson import ObjectId

from tests.base import uses_subprocesses
from tests.deploy.harness import Topology
from tests.deploy.test_proxy import request
from tests.utils.factories import PASSWORD, random_email

WRITERS = 6
MAX_WRITES = 20_000  # bounds the load whatever happens
MAX_SECONDS = 120.0


@uses_subprocesses
class RollingRestartTest(unittest.TestCase):
    def setUp(self) -> None:
        self.topology = Topology(GUNICORN_DRAIN_S="1", RATELIMIT_AUTH="1000/minute")
        self.addCleanup(self.topology.stop)

    def token(self) -> str:
        """Sign a new user up and return an access token."""
        credentials = {"email": random_email(), "password": PASSWORD}
        signup = {**credentials, "name": "Writer"}
        self.assertEqual(request(self.topology.base, "POST", "/api/v1/auth/signup", body=signup)[0], 201)
        status, _, body = request(self.topology.base, "POST", "/api/v1/auth/login", body=credentials)
        self.assertEqual(status, 200, body)
        return str(body["access_token"])

    def test_rolling_restart_under_write_load_fails_nothing_and_loses_nothing(self) -> None:
        tokens = [self.token() for _ in range(WRITERS)]
        stop = threading.Event()
        outcomes: Counter[str] = Counter()
        acknowledged: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + MAX_SECONDS

        def write(token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            while not stop.is_set() and time.monotonic() < deadline and sum(outcomes.values()) < MAX_WRITES:
                post = {"title": f"post {ObjectId()}", "body": "written during a rolling restart"}
                try:
                    status, _, body = request(self.topology.base, "POST", "/api/v1/posts", body=post, headers=headers)
                except OSError as error:
                    status, body = 0, repr(error)
                with lock:
                    outcomes[str(status)] += 1
                    if status == 201:
                        acknowledged.append(body["id"])

        first = self.topology.instances[0]
        seen: set[tuple[int | None, int | None]] = set()

        def watch() -> None:
            """Record what the first instance answers on /ready and /health while it is restarted."""
            while not stop.is_set() and time.monotonic() < deadline:
                seen.add((self.status(first, "/ready"), self.status(first, "/health")))
                time.sleep(0.05)

        pid = self.gunicorn_pid(first)
        threads = [threading.Thread(target=write, args=(token,)) for token in tokens]
        threads.append(threading.Thread(target=watch))
        for thread in threads:
            thread.start()
        try:
            time.sleep(1)
            self.topology.process.send_signal(signal.SIGHUP)
            self.topology.wait_for("restarted the instance", count=2, timeout=90)
            time.sleep(1)  # and a moment of traffic on the new instances
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)

        # While it drained, the instance failed /ready and still answered everything else.
        self.assertIn((503, 200), seen)
        self.assertNotEqual(self.gunicorn_pid(first), pid, "the first instance was not restarted")

        self.assertEqual(set(outcomes), {"201"}, f"every write must succeed: {dict(outcomes)}")
        self.assertGreater(outcomes["201"], 50, "the load must run through the whole restart")
        stored = {str(doc["_id"]) for doc in self.topology.db().posts.find({}, {"_id": 1})}
        self.assertEqual(set(acknowledged) - stored, set(), "an acknowledged write was lost")
        self.assertEqual(len(stored), len(acknowledged))

    def status(self, address: str, path: str) -> int | None:
        """Return the status of GET `path` on `address`, None when nothing answers."""
        try:
            return request(address, "GET", path)[0]
        except OSError:
            return None

    def gunicorn_pid(self, address: str) -> int:
        """Return the pid of the gunicorn master listening on `address`, from its start-up log line."""
        line = [line for line in self.topology.lines if f"Listening at: http://{address}" in line][-1]
        return int(line.rsplit("(", 1)[1].split(")")[0])
