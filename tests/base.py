"""The base test cases: a fresh database for every test, on the real server."""

from __future__ import annotations

import os
import secrets
import unittest
from functools import cache
from typing import Any, ClassVar

from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient
from pymongo.database import Database

from app import create_app
from controller.auth import AuthSettings
from dev import embedded_mongo
from model.mongodb import Document, init_db
from tests.utils.factories import PASSWORD, make_user
from tests.utils.openapi import ConformingClient


def mongo_uri() -> str:
    """Return the test server's URI: TEST_MONGODB_URI, else this process's embedded in-memory server."""
    return os.environ.get("TEST_MONGODB_URI") or embedded_mongo.memory_server_uri()


@cache
def mongo_client() -> MongoClient:
    """Return the process's client for the test server."""
    return MongoClient(mongo_uri(), tz_aware=True, serverSelectionTimeoutMS=5000)


class DatabaseTestCase(unittest.TestCase):
    """Give each test an initialised database of its own (`self.db`), dropped when the test ends.

    Controller and model tests use this directly: they need a database handle and no Flask app.
    """

    db: Database

    def setUp(self) -> None:
        self.db = mongo_client()[f"test_{secrets.token_hex(6)}"]
        self.addCleanup(self.db.client.drop_database, self.db.name)
        init_db(self.db)


class ApiTestCase(DatabaseTestCase):
    """Also give each test an app built with the testing config on that database, and a client."""

    config_overrides: ClassVar[dict[str, Any]] = {}
    app: Flask
    client: FlaskClient

    def setUp(self) -> None:
        super().setUp()
        overrides = {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name, **self.config_overrides}
        self.app = create_app("testing", overrides)
        self.app.test_client_class = ConformingClient  # every response is checked against the OpenAPI document
        self.client = self.app.test_client()
        self.addCleanup(self.app.extensions["jobs"].close)  # the broker connection of any job queued
        self.auth: AuthSettings = self.app.extensions["auth"]

    def make_user(self, *, role: str = "user", **fields: Any) -> Document:
        """Create a user (through the controller) with the test password."""
        return make_user(self.db, self.auth, role=role, **fields)

    def login(self, user: Document, password: str = PASSWORD) -> dict[str, Any]:
        """Log `user` in through the API and return the token response."""
        response = self.client.post("/api/v1/auth/login", json={"email": user["email"], "password": password})
        self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
        return response.get_json()

    def headers_for(self, user: Document) -> dict[str, str]:
        """Return an Authorization header with a fresh access token for `user`."""
        return {"Authorization": f"Bearer {self.login(user)['access_token']}"}

    def assertError(self, response: Any, status: int, code: str | None = None) -> dict[str, Any]:
        """Assert `response` is the JSON error envelope with this status (and code); return the error."""
        self.assertEqual(response.status_code, status, response.get_data(as_text=True))
        self.assertEqual(response.mimetype, "application/json")
        error = response.get_json()["error"]
        self.assertEqual(error["status"], status)
        self.assertEqual(error["request_id"], response.headers["X-Request-ID"])
        self.assertTrue(error["message"])
        if code is not None:
            self.assertEqual(error["code"], code)
        return error


class CommandTestCase(ApiTestCase):
    """Also give each test a CLI runner (`self.runner`) for the project's flask commands."""

    def setUp(self) -> None:
        super().setUp()
        self.runner = self.app.test_cli_runner()
