"""The embedded development server: started once, reused, stopped, data kept."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import tempfile
import time
import unittest
from pathlib import Path
from typing import Any
from unittest import mock

from pymongo import MongoClient

from app import create_app
from app.http.routing import ApiFlask
from dev import embedded_mongo, processes
from tests.base import uses_subprocesses
from tests.utils.servers import kill_servers_under

# A cheap hash, and generous budgets: the machine is shared, and a server has just been (re)started.
SETTINGS = {
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_KIB": 1024,
    "PASSWORD_HASH_PARALLELISM": 1,
    "READY_TIMEOUT_MS": 10000,
    "MONGODB_TIMEOUT_MS": 10000,
    "LOG_REQUESTS": False,
    "MONGODB_DB": "healing",
}
ACCOUNT = {"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}


@uses_subprocesses
class DevServerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.instance = Path(tempfile.mkdtemp(prefix="instance-"))
        self.addCleanup(shutil.rmtree, self.instance, True)
        # Kill what a test leaves running: its data is thrown away, and a graceful stop takes ~2 s.
        self.addCleanup(kill_servers_under, self.instance)

    def test_dev_server_is_reused_and_keeps_data_across_restarts(self) -> None:
        uri = embedded_mongo.ensure_dev_server(self.instance)
        state = embedded_mongo.dev_server_status(self.instance)
        self.assertIsNotNone(state)
        # A second caller (the reloader's child, flask shell, ...) gets the same server.
        self.assertEqual(embedded_mongo.ensure_dev_server(self.instance), uri)
        self.assertEqual(embedded_mongo.dev_server_status(self.instance), state)

        with MongoClient(uri) as client:
            client.app.things.insert_one({"_id": 1, "kept": True})
        self.assertTrue(embedded_mongo.stop_dev_server(self.instance))
        self.assertIsNone(embedded_mongo.dev_server_status(self.instance))
        self.assertFalse(embedded_mongo.stop_dev_server(self.instance))

        with MongoClient(embedded_mongo.ensure_dev_server(self.instance)) as client:
            self.assertEqual(client.app.things.find_one({"_id": 1}), {"_id": 1, "kept": True})

    def test_stale_state_file_is_replaced(self) -> None:
        self.instance.joinpath("mongodb.json").write_text('{"pid": 999999, "port": 1}')
        uri = embedded_mongo.ensure_dev_server(self.instance)
        self.assertNotIn(":1/", uri)
        self.assertIsNotNone(embedded_mongo.dev_server_status(self.instance))

    def test_server_uri_connects_directly(self) -> None:
        self.assertEqual(embedded_mongo.server_uri(27017), "mongodb://127.0.0.1:27017/?directConnection=true")


@uses_subprocesses
class DevServerHealsTest(unittest.TestCase):
    """A development app finds or restarts its server, whatever happened to it, and never runs two."""

    def setUp(self) -> None:
        self.instance = Path(tempfile.mkdtemp(prefix="instance-")) / "instance"
        # Cleanups run last in, first out: the scratch directory goes first, so that the app's breaker,
        # which restarts a server that dies, has nowhere left to start one; then the server is killed.
        self.addCleanup(kill_servers_under, self.instance.parent)
        self.addCleanup(shutil.rmtree, self.instance.parent, True)
        # The app's instance folder (its embedded server) is the scratch one from the start, for every
        # part of the app that reaches the database (the rate limiter's storage too), never the project's.
        instance_path = mock.patch.object(ApiFlask, "auto_find_instance_path", return_value=str(self.instance))
        with instance_path, contextlib.redirect_stdout(io.StringIO()):
            self.app = create_app("development", SETTINGS)
        self.client = self.app.test_client()

    def request(self, method: str, path: str, **kwargs: Any) -> int:
        with contextlib.redirect_stderr(io.StringIO()):  # the schema upgrade's report
            response = self.client.open(path, method=method, **kwargs)
        if response.status_code >= 500:
            log = self.instance / "mongodb.log"
            tail = log.read_text()[-1500:] if log.exists() else "(no server log)"
            print(f"{method} {path}: {response.get_data(as_text=True)}\n{tail}")  # why, when a check fails
        return response.status_code

    def holders(self) -> int:
        """Count the processes holding the data directory's lock (the servers on it)."""
        lock = str(embedded_mongo.data_dir(self.instance) / "WiredTiger.lock")
        count = 0
        for proc in Path("/proc").iterdir():
            with contextlib.suppress(OSError):
                if proc.name.isdigit() and any(os.readlink(fd).startswith(lock) for fd in (proc / "fd").iterdir()):
                    count += 1
        return count

    def pid(self) -> int:
        state = embedded_mongo.dev_server_status(self.instance)
        self.assertIsNotNone(state, "no server found")
        return state["pid"] if state else 0

    def test_next_request_heals_after_stop_kill_lost_state_file_and_deleted_instance(self) -> None:
        self.assertEqual(self.request("GET", "/ready"), 200)
        self.assertEqual(self.request("POST", "/api/v1/auth/signup", json=ACCOUNT), 201)

        embedded_mongo.stop_dev_server(self.instance)  # flask db-server stop
        self.assertEqual(self.request("GET", "/ready"), 200)
        self.assertEqual(self.request("POST", "/api/v1/auth/signup", json=ACCOUNT), 409)  # same data

        killed = self.pid()
        os.kill(killed, signal.SIGKILL)  # the server dies; the request after its death heals
        deadline = time.monotonic() + 10
        while processes.running_pid(killed) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.request("GET", "/ready"), 200)
        self.assertEqual(self.request("POST", "/api/v1/auth/signup", json=ACCOUNT), 409)

        running = self.pid()
        (self.instance / "mongodb.json").unlink()  # the state file disappears
        status = self.app.test_cli_runner().invoke(args=["db-server", "status"])  # found by its lock
        self.assertIn(f"running (orphan, no instance/mongodb.json): pid {running}", status.output)
        self.assertEqual(self.request("GET", "/ready"), 200)  # adopted, not doubled
        self.assertEqual(self.pid(), running)
        self.assertEqual(self.holders(), 1)

        shutil.rmtree(self.instance)  # instance/ deleted under a running server
        self.assertEqual(self.request("GET", "/ready"), 200)
        self.assertNotEqual(self.pid(), running)
        self.assertFalse(processes.running_pid(running))  # the orphan on the deleted directory is gone
        self.assertEqual(self.holders(), 1)
        self.assertEqual(self.request("POST", "/api/v1/auth/signup", json=ACCOUNT), 201)  # fresh, initialised
