"""Liveness, readiness and metrics."""

from __future__ import annotations

import re
import secrets
from typing import Any

from app import create_app
from app.services import lifecycle
from tests.base import ApiTestCase, mongo_uri

DOWN = "mongodb://127.0.0.1:1/?directConnection=true"


class HealthTest(ApiTestCase):
    def test_health_is_ok_without_touching_the_database(self) -> None:
        app = create_app("testing", {"MONGODB_URI": DOWN, "MONGODB_TIMEOUT_MS": 200})
        response = app.test_client().get("/health")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.get_json(), {"status": "ok"})

    def test_ready_pings_the_database(self) -> None:
        response = self.client.get("/ready")
        self.assertEqual(response.status_code, 200)
        body = response.get_json()
        self.assertEqual(body["status"], "ready")
        self.assertGreaterEqual(body["database"]["ping_ms"], 0)

    def test_ready_is_503_when_the_database_is_down(self) -> None:
        app = create_app("testing", {"MONGODB_URI": DOWN, "READY_TIMEOUT_MS": 300})
        with self.assertLogs(app.logger, "WARNING"):
            response = app.test_client().get("/ready")
        self.assertError(response, 503, "database_unavailable")

    def test_ready_is_503_while_draining_and_health_stays_ok(self) -> None:
        lifecycle.start_draining()
        self.addCleanup(lifecycle.stop_draining)
        error = self.assertError(self.client.get("/ready"), 503, "shutting_down")
        self.assertIn("shutting down", error["message"])
        self.assertEqual(self.client.get("/health").status_code, 200)


class MetricsTest(ApiTestCase):
    def sample(self, text: str, endpoint: str, status: str) -> float:
        pattern = (
            rf'http_request_duration_seconds_count{{endpoint="{re.escape(endpoint)}",method="GET",status="{status}"}}'
            r" ([0-9.e+]+)"
        )
        match = re.search(pattern, text)
        return float(match.group(1)) if match else 0.0

    def test_metrics_count_requests_by_route_and_status(self) -> None:
        before = self.client.get("/metrics").get_data(as_text=True)
        for _ in range(3):
            self.client.get("/api/v1/sample/add?a=1&b=2")
        self.client.get("/api/v1/sample/add?a=x&b=2")
        self.client.get("/no/such/route")
        response = self.client.get("/metrics")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content_type.startswith("text/plain"))
        after = response.get_data(as_text=True)
        route = "/api/v1/sample/add"
        self.assertEqual(self.sample(after, route, "200") - self.sample(before, route, "200"), 3)
        self.assertEqual(self.sample(after, route, "400") - self.sample(before, route, "400"), 1)
        self.assertEqual(self.sample(after, "<unmatched>", "404") - self.sample(before, "<unmatched>", "404"), 1)
        self.assertIn("http_request_duration_seconds_bucket", after)

    def test_metrics_can_be_disabled(self) -> None:
        app = create_app("testing", {"MONGODB_URI": mongo_uri(), "METRICS_ENABLED": False})
        self.assertError(app.test_client().get("/metrics"), 404)


class MetricsLabelsTest(ApiTestCase):
    def test_client_chosen_methods_add_no_label_values(self) -> None:
        self.client.open("/api/v1/sample/add?a=1&b=2", method="BREW")
        before = len(self.client.get("/metrics").get_data())
        for n in range(50):
            self.client.open(f"/api/v1/sample/add?a={n}&b=2", method=f"X{secrets.token_hex(6).upper()}")
            self.client.open(f"/no/such/path/{secrets.token_hex(8)}", method=f"Y{n}")
        text = self.client.get("/metrics").get_data(as_text=True)
        # Same series, new counts only: the exposition grows by a few digits, not by 100 series.
        self.assertLess(len(text) - before, 2000)
        methods = set(re.findall(r'method="([^"]*)"', text))
        self.assertLessEqual(methods, {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"})
        self.assertIn("other", methods)
        self.assertNotIn("/no/such/path", text)


class MetricsAccessTest(ApiTestCase):
    TOKEN = "metrics-" + "t" * 40

    def production_app(self, **overrides: Any) -> Any:
        settings = {
            "MONGODB_URI": mongo_uri(),
            "MONGODB_DB": self.db.name,
            "SECRET_KEY": "s" * 40,
            "MAIL_SERVER": "127.0.0.1",
            **overrides,
        }
        return create_app("production", settings).test_client()

    def test_production_metrics_are_off_without_a_token(self) -> None:
        self.assertError(self.production_app().get("/metrics"), 404)

    def test_production_metrics_need_the_bearer_token(self) -> None:
        client = self.production_app(METRICS_TOKEN=self.TOKEN)
        self.assertError(client.get("/metrics"), 401)
        self.assertError(client.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
        self.assertError(client.get("/metrics", headers={"Authorization": f"Basic {self.TOKEN}"}), 401)
        response = client.get("/metrics", headers={"Authorization": f"Bearer {self.TOKEN}"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("http_request_duration_seconds", response.get_data(as_text=True))

    def test_development_metrics_use_the_token_when_one_is_set(self) -> None:
        app = create_app("testing", {"MONGODB_URI": mongo_uri(), "METRICS_TOKEN": self.TOKEN})
        self.assertError(app.test_client().get("/metrics"), 401)
