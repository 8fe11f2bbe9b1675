"""The embedded development server: started once, reused, stopped, data kept."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import unittest
from pathlib import Path

from pymongo import MongoClient

from dev import embedded_mongo
from tests.base import uses_subprocesses


@uses_subprocesses
class DevServerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.instance = Path(tempfile.mkdtemp(prefix="instance-"))
        self.addCleanup(shutil.rmtree, self.instance, True)
        self.addCleanup(self.kill_server)

    def kill_server(self) -> None:
        """Kill the server a test leaves running: its data is thrown away, and a graceful stop takes ~2 s."""
        state = embedded_mongo.dev_server_status(self.instance)
        if state is not None:
            os.kill(state["pid"], signal.SIGKILL)

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
