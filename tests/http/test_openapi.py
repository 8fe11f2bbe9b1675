"""The generated OpenAPI document: valid, complete, and true to what the API answers."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from openapi_spec_validator import validate as validate_spec

from app import create_app
from app.http.inputs import Json, MaxLen, Query
from app.http.openapi import Component, documented
from app.http.openapi_document import build_openapi
from app.http.validation import validate
from tests.base import ApiTestCase, CommandTestCase, mongo_uri
from tests.utils.openapi import ResponseMismatch


class OpenApiDocumentTest(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        response = self.client.get("/api/v1/openapi.json")
        self.assertEqual(response.status_code, 200)
        self.spec = response.get_json()

    def test_document_is_valid_openapi_3_1(self) -> None:
        self.assertEqual(self.spec["openapi"], "3.1.0")
        validate_spec(self.spec)

    def test_every_route_and_method_is_documented(self) -> None:
        hidden = {
            "docs.get_docs",
            "docs.get_docs_file",
            "pages.get_home",
            "pages.get_readme",
            "pages.get_doc_page",
            "pages.get_favicon",
            "static",
        }
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint in hidden:
                continue
            path = rule.rule.replace("<objectid:", "{").replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                with self.subTest(rule=rule.rule, method=method):
                    self.assertIn(method.lower(), self.spec["paths"][path])

    def test_operations_carry_parameters_rules_and_auth(self) -> None:
        listing = self.spec["paths"]["/api/v1/posts"]["get"]
        limit = next(p for p in listing["parameters"] if p["name"] == "limit")
        self.assertEqual(limit["schema"], {"type": "integer", "default": 20, "minimum": 1, "maximum": 100})
        self.assertEqual(listing["security"], [])

        create = self.spec["paths"]["/api/v1/posts"]["post"]
        body = create["requestBody"]["content"]["application/json"]["schema"]
        self.assertEqual(body["required"], ["title", "body"])
        self.assertFalse(body["additionalProperties"])
        status = body["properties"]["status"]  # optional: null means "not given", as the validator reads it
        self.assertEqual(status["anyOf"][0]["enum"], ["draft", "published"])
        self.assertEqual(status["anyOf"][1], {"type": "null"})
        self.assertEqual(create["security"], [{"bearerAuth": []}])
        self.assertEqual(create["summary"], 'Create a post owned by the caller (a draft unless status is "published").')
        self.assertLessEqual({"201", "400", "401", "413", "415", "default"}, set(create["responses"]))

        item = self.spec["paths"]["/api/v1/posts/{post_id}"]
        self.assertEqual(item["get"]["parameters"][0]["schema"]["pattern"], "^[0-9a-fA-F]{24}$")
        self.assertEqual(item["get"]["security"], [{}, {"bearerAuth": []}])
        self.assertLessEqual({"204", "403", "404"}, set(item["delete"]["responses"]))
        self.assertIn("429", self.spec["paths"]["/api/v1/auth/login"]["post"]["responses"])

    def test_error_envelope_is_a_shared_component(self) -> None:
        error = self.spec["components"]["schemas"]["Error"]
        self.assertEqual(error["properties"]["error"]["required"], ["status", "code", "message", "request_id"])
        default = self.spec["paths"]["/health"]["get"]["responses"]["default"]
        self.assertEqual(default["content"]["application/json"]["schema"], {"$ref": "#/components/schemas/Error"})

    def test_every_parameter_and_request_body_carries_an_example(self) -> None:
        for path, operations in self.spec["paths"].items():
            for method, operation in operations.items():
                for parameter in operation.get("parameters", []):
                    if parameter["name"] == "cursor":
                        continue  # signed by the server: any example would be refused, so the UI leaves it empty
                    with self.subTest(path=path, method=method, parameter=parameter["name"]):
                        self.assertIn("example", parameter)
                if "requestBody" in operation:
                    media = operation["requestBody"]["content"]["application/json"]
                    with self.subTest(path=path, method=method, body=True):
                        self.assertTrue(media["example"])
                        self.assertLessEqual(set(media["schema"].get("required", [])), set(media["example"]))

    def test_body_examples_are_accepted_by_the_api(self) -> None:
        signup = self.spec["paths"]["/api/v1/auth/signup"]["post"]["requestBody"]["content"]["application/json"]
        self.assertEqual(self.client.post("/api/v1/auth/signup", json=signup["example"]).status_code, 201)
        login = self.spec["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"]["application/json"]
        tokens = self.client.post("/api/v1/auth/login", json=login["example"])
        self.assertEqual(tokens.status_code, 200)
        headers = {"Authorization": f"Bearer {tokens.get_json()['access_token']}"}
        posting = self.spec["paths"]["/api/v1/posts"]["post"]["requestBody"]["content"]["application/json"]
        self.assertEqual(self.client.post("/api/v1/posts", json=posting["example"], headers=headers).status_code, 201)
        listing = self.spec["paths"]["/api/v1/posts"]["get"]["parameters"]
        query = {p["name"]: p["example"] for p in listing if p["name"] in ("sort", "limit", "tag")}
        found = self.client.get("/api/v1/posts", query_string=query)
        self.assertEqual(found.status_code, 200)
        self.assertEqual(len(found.get_json()["items"]), 1)

    def test_docs_can_be_disabled(self) -> None:
        app = create_app("testing", {"MONGODB_URI": mongo_uri(), "DOCS_ENABLED": False})
        self.assertEqual(app.test_client().get("/api/v1/openapi.json").status_code, 404)
        self.assertEqual(app.test_client().get("/docs").status_code, 404)


class OpenApiGenerationTest(ApiTestCase):
    """Views added here, before the app's first request."""

    app_per_test = True  # its tests add routes to the app

    def test_a_new_view_appears_without_writing_documentation(self) -> None:
        @self.app.post("/api/v1/widgets")
        @documented(201, Component("Widget", {"type": "object"}))
        @validate
        def create_widget(name: str = Json(str, rules=[MaxLen(5)]), dry_run: bool = Query(bool, optional=True)):  # type: ignore[no-untyped-def]
            """Create a widget."""
            return {"name": name}, 201

        spec = build_openapi(self.app)
        operation = spec["paths"]["/api/v1/widgets"]["post"]
        self.assertEqual(operation["summary"], "Create a widget.")
        self.assertEqual(operation["parameters"][0]["schema"], {"type": "boolean"})
        self.assertEqual(
            operation["requestBody"]["content"]["application/json"]["schema"]["properties"]["name"],
            {"type": "string", "maxLength": 5},
        )
        self.assertIn("Widget", spec["components"]["schemas"])

    def test_two_components_with_one_name_are_refused(self) -> None:
        @self.app.get("/api/v1/clash")
        @documented(schema={"type": "array", "items": [Component("Thing", {"type": "object"}), Component("Thing", {})]})
        def get_clash():  # type: ignore[no-untyped-def]
            """Answer two schemas under one name."""
            return []

        with self.assertRaisesRegex(ValueError, "Thing"):
            build_openapi(self.app)

    def test_checker_catches_a_response_that_breaks_the_document(self) -> None:
        @self.app.get("/api/v1/liar")
        @documented(schema={"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}})
        def tell_lies():  # type: ignore[no-untyped-def]
            """Answer something else than documented."""
            return {"id": "not a number"}

        with self.assertRaises(ResponseMismatch):
            self.client.get("/api/v1/liar")


class SwaggerUiTest(ApiTestCase):
    def test_docs_page_loads_local_assets_only(self) -> None:
        page = self.client.get("/docs")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(page.mimetype, "text/html")
        html = page.get_data(as_text=True)
        self.assertNotIn("http", html)  # no CDN, nothing from the internet
        for asset in ("/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js"):
            with self.subTest(asset=asset):
                self.assertIn(asset, html)
                self.assertEqual(self.client.get(asset).status_code, 200)

    def test_docs_page_has_a_policy_that_allows_only_its_own_scripts(self) -> None:
        policy = self.client.get("/docs").headers["Content-Security-Policy"]
        self.assertIn("script-src 'self'", policy)
        self.assertNotIn("unsafe-eval", policy)

    def test_unknown_docs_file_is_404(self) -> None:
        for name in ("index.j2", "../config.py", "swagger-ui.js.map"):
            with self.subTest(name=name):
                self.assertError(self.client.get(f"/docs/{name}"), 404)


class OpenApiCommandTest(CommandTestCase):
    def test_flask_openapi_writes_the_document(self) -> None:
        printed = self.runner.invoke(args=["openapi"])
        self.assertEqual(printed.exit_code, 0, printed.output)
        self.assertEqual(json.loads(printed.output)["openapi"], "3.1.0")
        target = Path(tempfile.mkdtemp()) / "openapi.json"
        written = self.runner.invoke(args=["openapi", "--output", str(target)])
        self.assertEqual(written.exit_code, 0, written.output)
        self.assertEqual(json.loads(target.read_text())["paths"].keys(), json.loads(printed.output)["paths"].keys())
