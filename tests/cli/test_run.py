"""What `flask run` adds in development: one log line per request, a generous rate limit."""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import urllib.request

import orjson
from limits import parse

from app import create_app
from app.cli import _WerkzeugRequestLines, answer_server_errors_in_json, keep_one_line_per_request
from config import DevelopmentConfig, ProductionConfig
from tests.base import DatabaseTestCase, mongo_uri
from tests.utils.live_server import live_server


class DevelopmentServerTest(DatabaseTestCase):
    def test_one_log_line_per_request_under_the_development_server(self) -> None:
        werkzeug = logging.getLogger("werkzeug")
        self.addCleanup(
            lambda: [werkzeug.removeFilter(f) for f in list(werkzeug.filters) if isinstance(f, _WerkzeugRequestLines)]
        )
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            app = create_app(
                "development", {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name, "LOG_FLUSH_INTERVAL_MS": 0}
            )
        with live_server(app, quiet=False) as base:
            with self.assertLogs("werkzeug", "INFO") as before:  # werkzeug's own access line, without the filter
                urllib.request.urlopen(f"{base}/health", timeout=10).close()
            self.assertTrue(any('"GET /health HTTP/1.1" 200' in line for line in before.output), before.output)
            keep_one_line_per_request()
            keep_one_line_per_request()  # idempotent: the reloader's child runs it again
            with contextlib.redirect_stdout(output), self.assertNoLogs("werkzeug", "INFO"):
                urllib.request.urlopen(f"{base}/api/v1/sample/add?a=1&b=2", timeout=10).close()
        lines = [line for line in output.getvalue().splitlines() if "/api/v1/sample/add" in line]
        self.assertEqual(len(lines), 1, output.getvalue())  # the app's JSON line, and nothing else

    def test_development_rate_limit_is_generous_and_production_keeps_ten_a_minute(self) -> None:
        development = parse(DevelopmentConfig.load({})["RATELIMIT_AUTH"])
        self.assertGreaterEqual(development.amount * 60 / development.get_expiry(), 300)
        self.assertEqual(ProductionConfig.load({})["RATELIMIT_AUTH"], "10/minute")

    def test_the_development_servers_own_errors_are_json(self) -> None:
        # An outside finding: a URL over 64 KB got Werkzeug's HTML 414 page under `flask run`.
        from werkzeug.serving import WSGIRequestHandler

        self.addCleanup(setattr, WSGIRequestHandler, "send_error", WSGIRequestHandler.send_error)
        answer_server_errors_in_json()
        app = create_app("development", {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name})
        with live_server(app) as base:
            host, port = base.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                sock.sendall(f"GET /health?{'q' * 70_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 414 "), head)
        self.assertIn(b"Content-Type: application/json", head)
        self.assertEqual(orjson.loads(body)["error"]["code"], "uri_too_long")
