"""Per-request middleware: security headers, CORS, proxies, and the JSON request log."""

from __future__ import annotations

import io
import logging
import tempfile
import unittest
from pathlib import Path
from typing import Any

import orjson

from app import create_app
from app.services.json_logging import JsonFormatter, JsonStreamHandler
from config import ConfigError
from tests.base import ApiTestCase, mongo_uri
from tests.utils.factories import PASSWORD

ADD = "/api/v1/sample/add?a=1&b=2"


class SecurityHeadersTest(ApiTestCase):
    def test_api_responses_carry_security_headers(self) -> None:
        for response in (self.client.get(ADD), self.client.get("/nope"), self.client.post(ADD)):
            with self.subTest(status=response.status_code):
                headers = response.headers
                self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
                self.assertEqual(headers["Referrer-Policy"], "no-referrer")
                self.assertIn("default-src 'none'", headers["Content-Security-Policy"])
                # Framing is refused by the CSP (frame-ancestors supersedes X-Frame-Options).
                self.assertIn("frame-ancestors 'none'", headers["Content-Security-Policy"])
                self.assertEqual(headers["Cache-Control"], "no-store")
                self.assertNotIn("Strict-Transport-Security", headers)

    def test_pages_refuse_framing_too(self) -> None:
        for path in ("/", "/readme", "/docs"):
            with self.subTest(path=path):
                self.assertIn("frame-ancestors 'none'", self.client.get(path).headers["Content-Security-Policy"])

    def test_production_adds_hsts(self) -> None:
        app = create_app("production", {"SECRET_KEY": "s" * 40, "MONGODB_URI": mongo_uri(), "MAIL_SERVER": "smtp.test"})
        response = app.test_client().get("/health")
        self.assertIn("max-age=", response.headers["Strict-Transport-Security"])


class CorsTest(ApiTestCase):
    def test_cors_is_off_by_default(self) -> None:
        response = self.client.get(ADD, headers={"Origin": "https://evil.example"})
        self.assertNotIn("Access-Control-Allow-Origin", response.headers)

    def test_cors_allows_only_configured_origins(self) -> None:
        app = create_app("testing", {"MONGODB_URI": mongo_uri(), "CORS_ORIGINS": ("https://app.example",)})
        client = app.test_client()
        allowed = client.get(ADD, headers={"Origin": "https://app.example"})
        self.assertEqual(allowed.headers["Access-Control-Allow-Origin"], "https://app.example")
        self.assertIn("X-Request-ID", allowed.headers["Access-Control-Expose-Headers"])
        denied = client.get(ADD, headers={"Origin": "https://evil.example"})
        self.assertNotIn("Access-Control-Allow-Origin", denied.headers)
        preflight = client.options(
            "/api/v1/posts",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization, Content-Type",
            },
        )
        self.assertEqual(preflight.status_code, 204)
        self.assertIn("POST", preflight.headers["Access-Control-Allow-Methods"])


class ProxyTest(ApiTestCase):
    config_overrides = {"RATELIMIT_AUTH": "1/minute"}

    def test_forwarded_for_is_ignored_without_trusted_proxies(self) -> None:
        spoof = {"X-Forwarded-For": "203.0.113.9"}
        self.client.post("/api/v1/auth/login", json={}, headers=spoof)
        # Same real address: a spoofed header does not buy a fresh rate-limit bucket.
        self.assertError(self.client.post("/api/v1/auth/login", json={}, headers={"X-Forwarded-For": "1.2.3.4"}), 429)

    def test_forwarded_for_is_used_with_one_trusted_proxy(self) -> None:
        app = create_app(
            "testing",
            {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name, "PROXY_COUNT": 1, "RATELIMIT_AUTH": "1/minute"},
        )
        client = app.test_client()
        client.post("/api/v1/auth/login", json={}, headers={"X-Forwarded-For": "203.0.113.9"})
        other = client.post("/api/v1/auth/login", json={}, headers={"X-Forwarded-For": "203.0.113.10"})
        self.assertError(other, 400)  # another client address: a bucket of its own
        again = client.post("/api/v1/auth/login", json={}, headers={"X-Forwarded-For": "203.0.113.9"})
        self.assertError(again, 429)  # the first address's bucket is used up


class RequestLogTest(ApiTestCase):
    app_per_test = True  # the level of the process-wide "app" logger is set by the latest create_app()
    config_overrides = {"LOG_LEVEL": "INFO"}

    def setUp(self) -> None:
        super().setUp()
        # Only logged() below shows the lines. The "app" logger is shared by every app in the process.
        logger = self.app.logger
        self.addCleanup(setattr, logger, "handlers", logger.handlers)
        logger.handlers = [logging.NullHandler()]

    def logged(self, *requests: Any) -> list[dict[str, Any]]:
        """Run the requests and return the app's log lines as parsed JSON."""
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
        logger = self.app.logger
        original, logger.handlers = logger.handlers, [handler]
        try:
            for send in requests:
                send()
        finally:
            logger.handlers = original
        return [orjson.loads(line) for line in stream.getvalue().splitlines()]

    def test_each_request_is_one_json_line_with_context(self) -> None:
        user = self.make_user()
        headers = self.headers_for(user)
        responses = []
        listing = "/api/v1/users/me?secret=1"  # not logged: the path only (refused: an unknown parameter)
        [line] = self.logged(lambda: responses.append(self.client.get(listing, headers=headers)))
        self.assertEqual(line["message"], "request")
        self.assertEqual(line["level"], "INFO")
        self.assertEqual((line["method"], line["path"], line["status"]), ("GET", "/api/v1/users/me", 400))
        self.assertEqual(
            (line["request_id"], line["user_id"], line["client"]),
            (responses[0].headers["X-Request-ID"], str(user["_id"]), "127.0.0.1"),
        )
        self.assertIsInstance(line["duration_ms"], float)
        self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

    def test_passwords_tokens_and_bodies_are_never_logged(self) -> None:
        user = self.make_user()
        tokens: dict[str, Any] = {}

        def login() -> None:
            body = {"email": user["email"], "password": PASSWORD}
            tokens.update(self.client.post("/api/v1/auth/login", json=body).get_json())

        lines = self.logged(
            login,
            lambda: self.client.post(
                "/api/v1/auth/signup", json={"email": "x@example.com", "password": "hunter2-secret"}
            ),
            lambda: self.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}),
        )
        text = "\n".join(orjson.dumps(line).decode() for line in lines)
        self.assertEqual(len(lines), 3)
        for secret in (PASSWORD, "hunter2-secret", tokens["access_token"], tokens["refresh_token"], user["email"]):
            self.assertNotIn(secret, text)

    def test_slow_requests_are_warnings(self) -> None:
        app = create_app("testing", {"MONGODB_URI": mongo_uri(), "SLOW_REQUEST_MS": 0, "LOG_REQUESTS": False})
        with self.assertLogs(app.logger, "WARNING") as captured:
            app.test_client().get(ADD)
        self.assertEqual(captured.records[0].getMessage(), "slow request")
        self.assertEqual(captured.records[0].path, "/api/v1/sample/add")

    def test_health_probes_are_not_logged_unless_they_fail(self) -> None:
        self.assertEqual(self.logged(lambda: self.client.get("/health"), lambda: self.client.get("/metrics")), [])

    def test_errors_also_go_to_the_error_log_file(self) -> None:
        path = Path(tempfile.mkdtemp()) / "errors.log"
        app = create_app("testing", {"MONGODB_URI": mongo_uri(), "ERROR_LOG_PATH": str(path)})

        @app.get("/boom")
        def boom() -> None:
            raise ValueError("kaboom")

        stdout = [h for h in app.logger.handlers if not isinstance(h, logging.FileHandler)]
        for handler in stdout:  # keep the test output quiet; the file handler stays
            app.logger.removeHandler(handler)
        app.test_client().get("/boom")
        [line] = [orjson.loads(raw) for raw in path.read_text().splitlines()]
        self.assertEqual((line["level"], line["message"]), ("ERROR", "unhandled exception"))
        self.assertIn("ValueError: kaboom", line["exception"])


class LoggingSetupTest(ApiTestCase):
    def test_invalid_log_level_is_a_config_error(self) -> None:
        with self.assertRaisesRegex(ConfigError, "LOG_LEVEL"):
            create_app("testing", {"LOG_LEVEL": "LOUD"})

    def test_repeated_app_creation_does_not_stack_handlers(self) -> None:
        for _ in range(3):
            app = create_app("testing", {"MONGODB_URI": mongo_uri()})
        self.assertEqual(len(app.logger.handlers), 1)


class JsonStreamHandlerTest(unittest.TestCase):
    def make(self) -> tuple[JsonStreamHandler, io.BytesIO]:
        raw = io.BytesIO()
        stream = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
        handler = JsonStreamHandler(stream)
        self.addCleanup(handler.close)
        return handler, raw

    def lines(self, raw: io.BytesIO) -> list[str]:
        return [orjson.loads(line)["message"] for line in raw.getvalue().splitlines()]

    def record(self, level: int, message: str) -> logging.LogRecord:
        return logging.LogRecord("app", level, "", 0, message, (), None)

    def test_every_line_is_written_at_once_in_order(self) -> None:
        handler, raw = self.make()
        handler.handle(self.record(logging.INFO, "one"))
        self.assertEqual(self.lines(raw), ["one"])
        handler.write_line(b'{"message": "two"}\n')
        handler.handle(self.record(logging.WARNING, "three"))
        self.assertEqual(self.lines(raw), ["one", "two", "three"])

    def test_text_written_before_a_line_stays_before_it(self) -> None:
        raw = io.BytesIO()
        handler = JsonStreamHandler(io.TextIOWrapper(raw, encoding="utf-8"))  # text is buffered until flushed
        self.addCleanup(handler.close)
        handler.stream.write("printed\n")
        handler.write_line(b'{"message": "logged"}\n')
        self.assertEqual(raw.getvalue().splitlines(), [b"printed", b'{"message": "logged"}'])
