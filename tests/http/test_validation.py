"""The wrapper around flask-validation-extended, on views defined here."""

from __future__ import annotations

from typing import Any

from flask_validation_extended import List

from app.http.inputs import Header, In, Json, Max, MaxLen, Min, MinLen, Query
from app.http.validation import validate
from tests.base import ApiTestCase


class ValidationWrapperTest(ApiTestCase):
    app_per_test = True  # its tests add routes to the app

    def setUp(self) -> None:
        super().setUp()

        @self.app.post("/echo")
        @validate
        def echo(
            count: int = Json(int, rules=[Min(0), Max(10)]),
            tags: list = Json(List(str), optional=True, rules=[MaxLen(3)]),
            word: str = Json(str, optional=True, rules=[MinLen(1)]),
            mode: str = Json(str, default="fast", rules=[In(["fast", "slow"])]),
            token: str = Header("X-Api-Token"),
            page: int = Query(int, default=1),
        ) -> dict[str, Any]:
            return {"count": count, "tags": tags, "mode": mode, "token": token, "page": page, "word": word}

    def post(self, body: Any, **headers: str) -> Any:
        return self.client.post("/echo", json=body, headers={"X-Api-Token": "t", **headers})

    def test_valid_input_reaches_view_with_defaults(self) -> None:
        response = self.post({"count": 3})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.get_json(), {"count": 3, "tags": None, "mode": "fast", "token": "t", "page": 1, "word": None}
        )

    def test_header_names_are_case_insensitive(self) -> None:
        for name in ("x-api-token", "X-API-TOKEN", "x-Api-token"):
            with self.subTest(name=name):
                response = self.client.post("/echo", json={"count": 1}, headers={name: "abc"})
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.get_json()["token"], "abc")

    def test_missing_header_is_400(self) -> None:
        response = self.client.post("/echo", json={"count": 1})
        error = self.assertError(response, 400, "validation_error")
        self.assertIn("token", error["fields"])

    def test_boolean_is_not_an_integer(self) -> None:
        error = self.assertError(self.post({"count": True}), 400, "validation_error")
        self.assertIn("count", error["fields"])

    def test_float_and_string_are_not_integers(self) -> None:
        for value in (1.5, "3", [3], {"$gt": 0}):
            with self.subTest(value=value):
                self.assertError(self.post({"count": value}), 400, "validation_error")

    def test_huge_json_integer_is_rejected(self) -> None:
        raw = '{"count": 123456789012345678901234567890}'
        response = self.client.post("/echo", data=raw, content_type="application/json", headers={"X-Api-Token": "t"})
        error = self.assertError(response, 400, "validation_error")
        self.assertIn("count", error["fields"])

    def test_rule_violations_and_wrong_item_types_are_reported_together(self) -> None:
        error = self.assertError(self.post({"count": 11, "tags": ["a", 1], "mode": "warp"}), 400)
        self.assertEqual(set(error["fields"]), {"count", "tags", "mode"})

    def test_unknown_fields_are_rejected_not_ignored(self) -> None:
        error = self.assertError(self.post({"count": 1, "owner": "me", "_id": "x"}), 400, "validation_error")
        self.assertEqual(set(error["fields"]), {"owner", "_id"})
        self.assertEqual(error["fields"]["owner"], "Unknown field.")

    def test_unknown_and_repeated_query_parameters_are_rejected_not_ignored(self) -> None:
        headers = {"X-Api-Token": "t"}
        self.assertEqual(self.client.post("/echo?page=2", json={"count": 1}, headers=headers).get_json()["page"], 2)
        cases = {
            "/echo?pgae=2": {"pgae": "Unknown query parameter."},  # a typo no longer gives the default
            "/echo?page=2&page=9": {"page": "Given more than once."},  # which one would count?
            "/echo?page=2&_=1&sort=x": {"_": "Unknown query parameter.", "sort": "Unknown query parameter."},
        }
        for url, fields in cases.items():
            with self.subTest(url=url):
                error = self.assertError(self.client.post(url, json={"count": 1}, headers=headers), 400)
                self.assertEqual(error["fields"], fields)
        # A view that declares no query parameter refuses any.
        refused = self.assertError(self.client.get("/api/v1/sample/author?verbose=1"), 400, "validation_error")
        self.assertEqual(refused["fields"], {"verbose": "Unknown query parameter."})

    def test_many_unknown_fields_are_reported_capped_with_a_count(self) -> None:
        body = {"count": 1, **{f"field{n}": 0 for n in range(5000)}}
        response = self.post(body)
        error = self.assertError(response, 400, "validation_error")
        self.assertEqual(len(error["fields"]), 20)
        self.assertEqual(error["fields_omitted"], 4980)
        self.assertLess(len(response.data), 4096)
        self.assertEqual(list(error["fields"])[:3], ["field0", "field1", "field2"])  # in the body's order

    def test_huge_field_names_are_not_echoed_back_whole(self) -> None:
        name = "x" * 1_000_000
        response = self.post({"count": 1, name: 0})
        error = self.assertError(response, 400, "validation_error")
        self.assertEqual(list(error["fields"]), [f"{'x' * 100}... (1000000 characters)"])
        self.assertLess(len(response.data), 1024)
        query = self.client.post(f"/echo?{'q' * 60_000}=1", json={"count": 1}, headers={"X-Api-Token": "t"})
        self.assertError(query, 400, "validation_error")
        self.assertLess(len(query.data), 1024)

    def test_few_failing_fields_report_no_omitted_count(self) -> None:
        error = self.assertError(self.post({"count": 1, "owner": "me"}), 400, "validation_error")
        self.assertNotIn("fields_omitted", error)

    def test_bound_messages_name_the_allowed_bound(self) -> None:
        error = self.assertError(self.post({"count": -1}), 400, "validation_error")
        self.assertEqual(error["fields"]["count"], "Must be at least 0.")
        error = self.assertError(self.post({"count": 11}), 400, "validation_error")
        self.assertEqual(error["fields"]["count"], "Must be at most 10.")

    def test_messages_say_what_is_expected_in_words(self) -> None:
        # An outside review found Python internals in these ("is not ["<class 'str'>"]").
        cases = {
            "count is text": ({"count": "3"}, "count", "Must be an integer."),
            "count is missing": ({"mode": "fast"}, "count", "Required in the JSON body; not given."),
            "count is null": ({"count": None}, "count", "Must not be null."),
            "tags hold a number": ({"count": 1, "tags": ["a", 1]}, "tags", "Must be an array of strings."),
            "mode outside the list": ({"count": 1, "mode": "warp"}, "mode", "Must be one of: 'fast', 'slow'."),
            "too many tags": ({"count": 1, "tags": ["a"] * 4}, "tags", "Must have at most 3 items."),
            "a blank word": ({"count": 1, "word": ""}, "word", "Must have at least 1 character."),
        }
        for case, (body, field, message) in cases.items():
            with self.subTest(case):
                self.assertEqual(self.assertError(self.post(body), 400)["fields"][field], message)
        query = self.assertError(
            self.client.post("/echo?page=two", json={"count": 1}, headers={"X-Api-Token": "t"}), 400
        )
        self.assertEqual(query["fields"]["page"], "Must be an integer.")
        header = self.assertError(self.client.post("/echo", json={"count": 1}), 400)
        self.assertEqual(header["fields"]["token"], "Required as the header X-Api-Token; not given.")

    def test_json_content_type_with_charset_is_accepted(self) -> None:
        response = self.client.post(
            "/echo",
            data='{"count": 2}',
            content_type="application/json; charset=utf-8",
            headers={"X-Api-Token": "t"},
        )
        self.assertEqual(response.status_code, 200)

    def test_view_with_undeclared_parameter_is_refused_at_definition(self) -> None:
        with self.assertRaises(TypeError):

            @validate
            def broken(value):  # type: ignore[no-untyped-def]
                return value
