"""The optional request log in MongoDB, written off the request path."""

from __future__ import annotations

import logging
import time

from app import create_app
from app.services.request_log import RequestLogWriter
from tests.base import ApiTestCase, mongo_client, mongo_uri


class RequestLogToDatabaseTest(ApiTestCase):
    config_overrides = {"REQUEST_LOG_TO_DB": True, "LOG_REQUESTS": False}

    def test_requests_are_recorded_in_the_log_collection(self) -> None:
        rid = self.client.get("/api/v1/sample/add?a=1&b=2").headers["X-Request-ID"]
        self.client.get("/health")  # probes are not recorded
        deadline = time.monotonic() + 5
        while self.db.logs.count_documents({"event": "http.request"}) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        [entry] = list(self.db.logs.find({"event": "http.request"}))
        self.assertEqual(entry["request_id"], rid)
        self.assertEqual(entry["detail"]["path"], "/api/v1/sample/add")
        self.assertEqual(entry["detail"]["status"], 200)
        self.assertEqual(entry["actor"], "127.0.0.1")


class RequestLogWriterTest(ApiTestCase):
    def test_unreachable_database_drops_records_without_slowing_requests(self) -> None:
        app = create_app(
            "testing",
            {
                "MONGODB_URI": "mongodb://127.0.0.1:1/?directConnection=true",
                "MONGODB_TIMEOUT_MS": 200,  # how long the writer tries each batch before dropping it
                "REQUEST_LOG_TO_DB": True,
                "LOG_REQUESTS": False,
            },
        )
        client = app.test_client()
        writer: RequestLogWriter = app.extensions["request_log"]
        with self.assertLogs(app.logger, "WARNING") as captured:
            started = time.monotonic()
            for _ in range(20):
                self.assertEqual(client.get("/api/v1/sample/add?a=1&b=2").status_code, 200)
            self.assertLess(time.monotonic() - started, 1.0, "requests must not wait for the log")
            deadline = time.monotonic() + 10
            while writer.dropped < 20 and time.monotonic() < deadline:  # the writer thread gives up on each batch
                time.sleep(0.05)
        self.assertEqual(writer.dropped, 20)
        self.assertIn("dropped", captured.output[0])

    def test_full_queue_drops_and_counts(self) -> None:
        db = mongo_client()[self.db.name]
        writer = RequestLogWriter(lambda: db, logging.getLogger("test.request_log"), capacity=2, background=False)
        with self.assertLogs("test.request_log", "WARNING"):
            for number in range(5):
                writer.submit({"request_id": str(number), "actor": None, "detail": {}})
        self.assertEqual(writer.dropped, 3)

    def test_flush_writes_queued_records_in_one_batch(self) -> None:
        app = create_app("testing", {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name})
        writer = RequestLogWriter(lambda: app.extensions["mongo"].db, app.logger, background=False)
        writer.submit({"request_id": "a", "actor": "x", "detail": {"status": 200}})
        writer.submit({"request_id": "b", "actor": "x", "detail": {"status": 201}})
        self.assertEqual(writer.flush(), 2)
        self.assertEqual(self.db.logs.count_documents({"event": "http.request"}), 2)
