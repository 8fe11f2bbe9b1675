"""The error envelope and the request id, across HTTP, domain, database and unexpected errors."""

from __future__ import annotations

import io
import time
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from app.http.inputs import Route
from app.http.validation import validate
from app.services.database import get_db
from tests.base import ApiTestCase, mongo_uri


class ErrorEnvelopeTest(ApiTestCase):
    app_per_test = True  # its tests add routes to the app
    config_overrides = {"MAX_CONTENT_LENGTH": 1024}

    def test_unknown_route_is_404_json(self) -> None:
        for path in ("/nope", "/api/v1/nope", "/api/v2/sample/add"):
            with self.subTest(path=path):
                self.assertError(self.client.get(path), 404, "not_found")

    def test_unknown_route_never_answers_html(self) -> None:
        response = self.client.get("/nope", headers={"Accept": "text/html"})
        self.assertEqual(response.mimetype, "application/json")
        self.assertNotIn(b"<", response.data)

    def test_wrong_method_is_405(self) -> None:
        self.assertError(self.client.delete("/api/v1/sample/author"), 405, "method_not_allowed")

    def test_oversized_body_is_413(self) -> None:
        response = self.client.post("/api/v1/auth/signup", json={"name": "x" * 5000})
        self.assertError(response, 413, "payload_too_large")

    def _post_body_failing_with(self, error: OSError) -> TestResponse:
        """POST a body whose reading fails with `error` after its Content-Length was announced."""

        class Failing(io.BytesIO):
            def readinto(self, buffer: Any) -> int:
                raise error

        return self.client.post(
            "/api/v1/auth/signup",
            input_stream=Failing(),
            content_type="application/json",
            environ_overrides={"CONTENT_LENGTH": "100"},
        )

    def test_a_body_that_stops_arriving_is_408(self) -> None:
        # The server's read timed out (deploy/client_timeouts.py); Werkzeug reports a disconnected client.
        self.assertError(self._post_body_failing_with(TimeoutError("timed out")), 408, "request_timeout")

    def test_a_client_gone_mid_body_stays_400(self) -> None:
        self.assertError(self._post_body_failing_with(ConnectionResetError()), 400, "bad_request")

    def test_malformed_object_id_in_url_is_404(self) -> None:
        @self.app.get("/things/<objectid:thing_id>")
        @validate
        def get_thing(thing_id=Route()):  # type: ignore[no-untyped-def]
            return {"id": thing_id}

        self.assertEqual(self.client.get("/things/" + "a" * 24).get_json(), {"id": "a" * 24})
        for bad in ("123", "z" * 24, "a" * 25, "%00"):
            with self.subTest(bad=bad):
                self.assertError(self.client.get(f"/things/{bad}"), 404, "not_found")

    def test_unexpected_exception_is_500_without_details(self) -> None:
        @self.app.get("/boom")
        def boom():  # type: ignore[no-untyped-def]
            raise RuntimeError("secret internals")

        with self.assertLogs(self.app.logger, "ERROR"):
            response = self.client.get("/boom")
        error = self.assertError(response, 500, "internal_error")
        self.assertNotIn("secret", response.get_data(as_text=True))
        self.assertNotIn("Traceback", response.get_data(as_text=True))
        self.assertNotIn("secret", error["message"])


class RequestIdTest(ApiTestCase):
    def test_response_carries_generated_request_id(self) -> None:
        first = self.client.get("/api/v1/sample/add?a=1&b=2").headers["X-Request-ID"]
        second = self.client.get("/api/v1/sample/add?a=1&b=2").headers["X-Request-ID"]
        self.assertRegex(first, r"^[0-9a-f]{32}$")
        self.assertNotEqual(first, second)

    def behind_proxy(self) -> FlaskClient:
        return create_app("testing", {"MONGODB_URI": mongo_uri(), "PROXY_COUNT": 1}).test_client()

    def test_client_request_id_is_ignored_without_a_proxy(self) -> None:
        response = self.client.get("/nope", headers={"x-request-id": "abc-123.DEF:9"})
        self.assertRegex(response.headers["X-Request-ID"], r"^[0-9a-f]{32}$")
        self.assertEqual(response.get_json()["error"]["request_id"], response.headers["X-Request-ID"])

    def test_valid_incoming_request_id_is_echoed_behind_a_proxy(self) -> None:
        response = self.behind_proxy().get("/nope", headers={"x-request-id": "abc-123.DEF:9"})
        self.assertEqual(response.headers["X-Request-ID"], "abc-123.DEF:9")
        self.assertEqual(response.get_json()["error"]["request_id"], "abc-123.DEF:9")

    def test_invalid_incoming_request_id_is_replaced(self) -> None:
        client = self.behind_proxy()
        for bad in ("has space", "x" * 200, "<script>", "-leading-dash", "new\\nline"):
            with self.subTest(bad=bad):
                response = client.get("/api/v1/sample/add?a=1&b=2", headers={"X-Request-ID": bad})
                self.assertRegex(response.headers["X-Request-ID"], r"^[0-9a-f]{32}$")


class DatabaseDownTest(ApiTestCase):
    def test_request_needing_unreachable_database_is_503_fast(self) -> None:
        # Port 1 on loopback refuses connections: the database is "down".
        app = create_app(
            "testing",
            {"MONGODB_URI": "mongodb://127.0.0.1:1/?directConnection=true", "MONGODB_TIMEOUT_MS": 300},
        )
        client = app.test_client()
        started = time.monotonic()
        with self.assertLogs(app.logger, "WARNING"):
            response = client.get("/api/v1/sample/author")
        self.assertLess(time.monotonic() - started, 3)
        self.assertError(response, 503, "database_unavailable")
        self.assertEqual(response.headers["Retry-After"], "1")
        self.assertEqual(client.get("/api/v1/sample/add?a=1&b=2").status_code, 200)

    def test_get_db_returns_the_configured_database(self) -> None:
        with self.app.app_context():
            self.assertEqual(get_db().name, self.db.name)
