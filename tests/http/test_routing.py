"""Routing answers Flask would give outside the error handlers: slash redirects and automatic OPTIONS."""

from __future__ import annotations

from tests.base import ApiTestCase

POST_ID = "000000000000000000000000"


class SlashRedirectTest(ApiTestCase):
    app_per_test = True  # a test adds a route

    def assertNoRedirect(self, response: object, path: str) -> None:
        self.assertError(response, 404, "not_found")
        self.assertNotIn("Location", response.headers)  # type: ignore[attr-defined]
        self.assertNotIn(b"<", response.data)  # type: ignore[attr-defined]

    def test_doubled_slashes_are_json_404_without_a_location(self) -> None:
        shapes = [
            ("GET", f"/api/v1/posts//{POST_ID}"),
            ("GET", "/api/v1//posts"),
            ("GET", "//health"),
            ("GET", "/api/v1/sample//add?a=1&b=2"),
            ("POST", "/api//v1/auth/login"),
            ("PATCH", f"/api/v1/posts//{POST_ID}"),
            ("DELETE", "/api/v1/users//me"),
            ("GET", "/docs//x"),
            ("GET", "/static//x.css"),  # the static rule was added before merge_slashes was turned off
        ]
        for method, path in shapes:
            with self.subTest(method=method, path=path):
                response = self.client.open(path, method=method, json={}, headers={"Host": "evil.example"})
                self.assertNoRedirect(response, path)

    def test_a_missing_trailing_slash_is_json_404(self) -> None:
        self.app.add_url_rule("/things/", "things", lambda: {"things": []})
        self.assertEqual(self.client.get("/things/").get_json(), {"things": []})
        self.assertNoRedirect(self.client.get("/things", headers={"Host": "evil.example"}), "/things")


class OptionsTest(ApiTestCase):
    def test_automatic_options_is_204_with_allow_and_no_body(self) -> None:
        for path, allowed in (
            ("/api/v1/posts", {"GET", "POST"}),
            (f"/api/v1/posts/{POST_ID}", {"GET", "PATCH", "DELETE"}),
            ("/health", {"GET"}),
        ):
            with self.subTest(path=path):
                response = self.client.options(path)
                self.assertEqual(response.status_code, 204)
                self.assertEqual(response.data, b"")
                self.assertNotIn("Content-Type", response.headers)
                self.assertLessEqual(allowed | {"OPTIONS"}, set(response.allow))
                self.assertTrue(response.headers["X-Request-ID"])

    def test_options_on_an_unknown_path_is_json_404(self) -> None:
        self.assertError(self.client.options("/api/v1/nope"), 404, "not_found")
