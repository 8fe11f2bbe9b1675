"""The database is never served uninitialised: development brings it up to date, production refuses."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any
from unittest import mock

from app import create_app
from app.services import schema_check
from controller.schema import upgrade
from tests.base import DatabaseTestCase, mongo_uri

SECRET = "s" * 40
ACCOUNT = {"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"}


class SchemaOnFirstUseTest(DatabaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.db.client.drop_database(self.db.name)  # a database `flask db-init` never touched

    def make_app(self, config_name: str, output: io.StringIO) -> Any:
        overrides = {
            "MONGODB_URI": mongo_uri(),
            "MONGODB_DB": self.db.name,
            "SECRET_KEY": SECRET,
            "MAIL_SERVER": "smtp",
        }
        with contextlib.redirect_stdout(output):
            return create_app(config_name, {**overrides, "LOG_REQUESTS": False})

    def test_development_brings_the_database_up_to_date_on_first_use_and_says_so(self) -> None:
        app = self.make_app("development", io.StringIO())
        client = app.test_client()
        printed = io.StringIO()
        with contextlib.redirect_stderr(printed):
            first = client.post("/api/v1/auth/signup", json=ACCOUNT)
        self.assertEqual(first.status_code, 201, first.get_data(as_text=True))
        # The unique index exists, so the same email cannot sign up twice.
        self.assertEqual(client.post("/api/v1/auth/signup", json=ACCOUNT).status_code, 409)
        self.assertIn("created collection users", printed.getvalue())
        self.assertIn("applied migration 0001_lowercase_user_emails", printed.getvalue())
        with contextlib.redirect_stderr(printed):
            self.assertEqual(client.get("/ready").status_code, 200)
        self.assertEqual(printed.getvalue().count("created collection users"), 1)  # checked once, not per request

    def test_production_refuses_to_serve_an_outdated_schema_and_logs_one_line(self) -> None:
        logs = io.StringIO()
        app = self.make_app("production", logs)
        client = app.test_client()
        with contextlib.redirect_stdout(logs):
            ready = client.get("/ready")
            signup = client.post("/api/v1/auth/signup", json=ACCOUNT)
        for response in (ready, signup):
            self.assertEqual(response.status_code, 503)
            self.assertEqual(response.get_json()["error"]["code"], "schema_outdated")
            self.assertIn("flask db-init && flask db-migrate", response.get_json()["error"]["message"])
        errors = [json.loads(line) for line in logs.getvalue().splitlines() if '"ERROR"' in line]
        self.assertEqual(len(errors), 1, logs.getvalue())
        self.assertIn("collection users", errors[0]["message"])
        self.assertIn("migration 0001_lowercase_user_emails", errors[0]["message"])
        self.assertIn("flask db-init && flask db-migrate", errors[0]["message"])
        self.assertEqual(self.db.list_collection_names(), [])  # production changed nothing

        upgrade(self.db)  # the operator runs the fix; no restart is needed
        with mock.patch.object(schema_check, "SCHEMA_RECHECK_S", 0), contextlib.redirect_stdout(logs):
            self.assertEqual(client.get("/ready").status_code, 200)
            self.assertEqual(client.post("/api/v1/auth/signup", json=ACCOUNT).status_code, 201)
