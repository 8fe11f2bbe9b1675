"""What `flask run` adds in development: one log line per request, a generous rate limit."""

from __future__ import annotations

import contextlib
import io
import logging
import urllib.request

from limits import parse

from app import create_app
from app.cli import _WerkzeugRequestLines, keep_one_line_per_request
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
