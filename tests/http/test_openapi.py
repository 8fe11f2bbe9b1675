"""The generated OpenAPI document: valid, complete, and true to what the API answers."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from flask_validation_extended import Json, MaxLen, Query
from openapi_spec_validator import validate as validate_spec

from app import create_app
from app.http.openapi import build_openapi, documented
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
        hidden = {"docs.get_docs", "docs.get_docs_file", "pages.get_home", "pages.get_readme", "static"}
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

    def test_docs_can_be_disabled(self) -> None:
        app = create_app("testing", {"MONGODB_URI": mongo_uri(), "DOCS_ENABLED": False})
        self.assertEqual(app.test_client().get("/api/v1/openapi.json").status_code, 404)
        self.assertEqual(app.test_client().get("/docs").status_code, 404)


class OpenApiGenerationTest(ApiTestCase):
    """Views added here, before the app's first request."""

    def test_a_new_view_appears_without_writing_documentation(self) -> None:
        @self.app.post("/api/v1/widgets")
        @documented(201, {"title": "Widget", "type": "object"})
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
