"""The sample API: calculator, author setting and audit log."""

from __future__ import annotations

import json

from controller.calculator import MAX_SAFE_INTEGER
from model.mongodb import AuditLog
from tests.base import ApiTestCase
from tests.utils.factories import PASSWORD

SAMPLE = "/api/v1/sample"


class CalculatorApiTest(ApiTestCase):
    def test_compute_each_operation_returns_integer_result(self) -> None:
        cases = {"add": 10, "subtract": 4, "multiply": 21, "divide": 2}
        for operation, expected in cases.items():
            with self.subTest(operation):
                response = self.client.get(f"{SAMPLE}/{operation}?a=7&b=3")
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.get_json(), {"result": expected})

    def test_add_accepts_negative_and_signed_numbers(self) -> None:
        response = self.client.get(f"{SAMPLE}/add", query_string={"a": "-5", "b": "+2"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.get_json(), {"result": -3})

    def test_divide_by_zero_is_400(self) -> None:
        error = self.assertError(self.client.get(f"{SAMPLE}/divide?a=1&b=0"), 400, "division_by_zero")
        self.assertIn("zero", error["message"])

    def test_compute_with_missing_operand_is_400_naming_it(self) -> None:
        error = self.assertError(self.client.get(f"{SAMPLE}/add?a=1"), 400, "validation_error")
        self.assertEqual(list(error["fields"]), ["b"])

    def test_compute_with_both_operands_missing_reports_both(self) -> None:
        error = self.assertError(self.client.get(f"{SAMPLE}/multiply"), 400, "validation_error")
        self.assertEqual(set(error["fields"]), {"a", "b"})

    def test_compute_with_non_integer_operands_is_400(self) -> None:
        for bad in ("x", "1.5", "1e3", "", " 1", "1_000", "١٢", "0x10", "true", "NaN"):
            with self.subTest(bad=bad):
                error = self.assertError(self.client.get(f"{SAMPLE}/add", query_string={"a": bad, "b": 1}), 400)
                self.assertIn("a", error["fields"])

    def test_compute_with_huge_operands_is_400(self) -> None:
        for bad in (str(MAX_SAFE_INTEGER + 1), "9" * 5000, str(-MAX_SAFE_INTEGER - 1)):
            with self.subTest(digits=len(bad)):
                error = self.assertError(self.client.get(f"{SAMPLE}/add", query_string={"a": bad, "b": 1}), 400)
                self.assertIn("a", error["fields"])

    def test_compute_at_the_safe_limit_is_exact(self) -> None:
        response = self.client.get(f"{SAMPLE}/subtract", query_string={"a": MAX_SAFE_INTEGER, "b": 1})
        self.assertEqual(response.get_json(), {"result": MAX_SAFE_INTEGER - 1})

    def test_multiply_beyond_the_safe_range_is_422(self) -> None:
        query = {"a": MAX_SAFE_INTEGER, "b": MAX_SAFE_INTEGER}
        self.assertError(self.client.get(f"{SAMPLE}/multiply", query_string=query), 422, "out_of_range")

    def test_compute_with_wrong_method_is_405_with_allow_header(self) -> None:
        response = self.client.post(f"{SAMPLE}/add?a=1&b=2")
        self.assertError(response, 405, "method_not_allowed")
        self.assertIn("GET", response.headers["Allow"])


class AuthorApiTest(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.admin = self.make_user(role="admin")
        self.admin_headers = self.headers_for(self.admin)

    def test_get_author_returns_seeded_name(self) -> None:
        response = self.client.get(f"{SAMPLE}/author")
        self.assertEqual(response.status_code, 200)
        body = response.get_json()
        self.assertEqual(body["name"], "IML")
        self.assertRegex(body["updated_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")

    def test_update_author_changes_name_and_writes_audit_log(self) -> None:
        response = self.client.put(f"{SAMPLE}/author", json={"name": "Ada"}, headers=self.admin_headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.get_json()["name"], "Ada")
        self.assertEqual(self.client.get(f"{SAMPLE}/author").get_json()["name"], "Ada")
        entry = self.db.logs.find_one({"event": "author.updated"})
        self.assertEqual(entry["detail"], {"old": "IML", "new": "Ada"})
        self.assertEqual(entry["request_id"], response.headers["X-Request-ID"])
        self.assertEqual(entry["actor"], str(self.admin["_id"]))

    def test_update_author_with_bad_body_is_400_and_changes_nothing(self) -> None:
        bad_bodies = {
            "missing name": {},
            "empty name": {"name": ""},
            "name not a string": {"name": 5},
            "name is null": {"name": None},
            "name too long": {"name": "x" * 101},
            "name not stripped": {"name": " Ada "},
            "unknown field": {"name": "Ada", "role": "admin"},
            "operator object": {"name": {"$ne": None}},
        }
        for label, body in bad_bodies.items():
            with self.subTest(label):
                self.assertError(
                    self.client.put(f"{SAMPLE}/author", json=body, headers=self.admin_headers), 400, "validation_error"
                )
        self.assertEqual(self.client.get(f"{SAMPLE}/author").get_json()["name"], "IML")
        self.assertEqual(self.db.logs.count_documents({"event": "author.updated"}), 0)

    def test_update_author_with_malformed_json_is_400_malformed_json(self) -> None:
        for raw in ('{"name": "Ada"', "{name: 'Ada'}", '{"name": NaN}', '{"name": 1e999}', "\xff"):
            with self.subTest(raw=raw):
                response = self.client.put(
                    f"{SAMPLE}/author", data=raw, content_type="application/json", headers=self.admin_headers
                )
                self.assertError(response, 400, "malformed_json")

    def test_update_author_with_array_or_scalar_body_is_400(self) -> None:
        for raw in ("[]", '[{"name": "Ada"}]', '"Ada"', "42", "null", "true"):
            with self.subTest(raw=raw):
                response = self.client.put(
                    f"{SAMPLE}/author", data=raw, content_type="application/json", headers=self.admin_headers
                )
                self.assertError(response, 400, "invalid_body")

    def test_update_author_with_non_json_body_is_415(self) -> None:
        response = self.client.put(
            f"{SAMPLE}/author",
            data="name=Ada",
            content_type="application/x-www-form-urlencoded",
            headers=self.admin_headers,
        )
        self.assertError(response, 415, "unsupported_media_type")

    def test_update_author_with_empty_body_reports_missing_name(self) -> None:
        error = self.assertError(
            self.client.put(f"{SAMPLE}/author", headers=self.admin_headers), 400, "validation_error"
        )
        self.assertEqual(list(error["fields"]), ["name"])


class LogsApiTest(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.admin = self.make_user(role="admin")
        self.admin_headers = self.headers_for(self.admin)

    def test_list_logs_returns_newest_first(self) -> None:
        for name in ("one", "two", "three"):
            self.client.put(f"{SAMPLE}/author", json={"name": name}, headers=self.admin_headers)
        response = self.client.get(f"{SAMPLE}/logs?limit=2", headers=self.admin_headers)
        self.assertEqual(response.status_code, 200)
        items = response.get_json()["items"]
        self.assertEqual([item["detail"]["new"] for item in items], ["three", "two"])
        self.assertEqual(len(items[0]["id"]), 24)
        self.assertNotIn("schema_version", items[0])

    def test_list_logs_defaults_to_twenty(self) -> None:
        AuditLog(self.db).write_many("test.event", [{"detail": {"n": n}} for n in range(25)])
        self.assertEqual(len(self.client.get(f"{SAMPLE}/logs", headers=self.admin_headers).get_json()["items"]), 20)

    def test_list_logs_with_limit_out_of_range_is_400(self) -> None:
        for limit in ("0", "101", "-1", "abc", "99999999999999999999"):
            with self.subTest(limit=limit):
                error = self.assertError(
                    self.client.get(f"{SAMPLE}/logs?limit={limit}", headers=self.admin_headers), 400, "validation_error"
                )
                self.assertIn("limit", error["fields"])


class SampleAccessTest(ApiTestCase):
    def test_reading_the_author_stays_public(self) -> None:
        self.assertEqual(self.client.get(f"{SAMPLE}/author").status_code, 200)

    def test_changing_the_author_needs_an_admin(self) -> None:
        self.assertError(self.client.put(f"{SAMPLE}/author", json={"name": "Eve"}), 401, "missing_token")
        user_headers = self.headers_for(self.make_user())
        response = self.client.put(f"{SAMPLE}/author", json={"name": "Eve"}, headers=user_headers)
        self.assertError(response, 403, "insufficient_role")
        self.assertEqual(self.client.get(f"{SAMPLE}/author").get_json()["name"], "IML")

    def test_listing_the_audit_log_needs_an_admin(self) -> None:
        self.assertError(self.client.get(f"{SAMPLE}/logs"), 401, "missing_token")
        user_headers = self.headers_for(self.make_user())
        self.assertError(self.client.get(f"{SAMPLE}/logs", headers=user_headers), 403, "insufficient_role")

    def test_audit_log_records_user_ids_and_never_secrets(self) -> None:
        user = self.make_user()
        tokens = self.login(user)
        self.client.patch(
            "/api/v1/users/me",
            json={"password": "new password 1", "current_password": PASSWORD},
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        admin = self.make_user(role="admin")
        admin_headers = self.headers_for(admin)
        self.client.put(f"{SAMPLE}/author", json={"name": "Ada"}, headers=admin_headers)
        items = self.client.get(f"{SAMPLE}/logs", headers=admin_headers).get_json()["items"]
        events = {item["event"]: item for item in items}
        self.assertEqual(events["user.password_changed"]["actor"], str(user["_id"]))
        self.assertEqual(events["author.updated"]["actor"], str(admin["_id"]))
        dumped = json.dumps(items)
        for secret in (PASSWORD, "new password 1", tokens["access_token"], tokens["refresh_token"], "$argon2"):
            self.assertNotIn(secret, dumped)
