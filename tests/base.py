"""The base test cases: a database per test class on the real server, emptied between tests."""

from __future__ import annotations

import os
import secrets
import unittest
from functools import cache
from typing import Any, ClassVar, TypeVar

from flask import Flask
from flask.testing import FlaskClient
from pymongo import MongoClient
from pymongo.database import Database

from app import create_app
from controller.auth import AuthSettings
from controller.schema import upgrade
from dev import embedded_mongo
from model.mongodb import MODELS, AppliedMigration, Document, init_db
from tests.utils.factories import PASSWORD, make_user
from tests.utils.openapi import ConformingClient


def mongo_uri() -> str:
    """Return the test server's URI: TEST_MONGODB_URI, else this process's embedded in-memory server."""
    return os.environ.get("TEST_MONGODB_URI") or embedded_mongo.memory_server_uri()


T = TypeVar("T", bound=type)


def uses_subprocesses(cls: T) -> T:
    """Mark a test class that starts servers or interpreters: `flask test` runs it in its own, second step."""
    cls.uses_subprocesses = True  # type: ignore[attr-defined]
    return cls


@cache
def mongo_client() -> MongoClient:
    """Return the process's client for the test server."""
    return MongoClient(mongo_uri(), tz_aware=True, serverSelectionTimeoutMS=5000)


class DatabaseTestCase(unittest.TestCase):
    """Give each test class an initialised database of its own (`self.db`), emptied after every test.

    `db-init` runs once per class (it is the slow part); after each test every model collection is
    emptied and re-seeded and any other collection is dropped, so each test starts from a freshly
    initialised database. Controller and model tests use this directly: they need no Flask app.
    """

    db: ClassVar[Database]
    # As `make run` leaves it: db-init and every migration. False: db-init only (tests of the migrations).
    apply_migrations: ClassVar[bool] = True

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.db = mongo_client()[f"test_{secrets.token_hex(6)}"]
        cls.addClassCleanup(cls.db.client.drop_database, cls.db.name)
        upgrade(cls.db) if cls.apply_migrations else init_db(cls.db)

    def setUp(self) -> None:
        self.addCleanup(empty_db, self.db, migrated=self.apply_migrations)


def empty_db(db: Database, *, migrated: bool = False) -> None:
    """Bring an initialised database back to its state straight after `db-init` (and the migrations)."""
    present = set(db.list_collection_names())
    for name in present - MODEL_COLLECTIONS:
        db.drop_collection(name)
    if not present >= MODEL_COLLECTIONS:  # a test dropped a model's collection (or the database)
        upgrade(db) if migrated else init_db(db)
    for model in MODELS:
        if not (migrated and model is AppliedMigration):  # the record of the migrations applied stays
            db[model.collection_name].delete_many({})
    for model in MODELS:
        model.seed(db)


MODEL_COLLECTIONS = frozenset(model.collection_name for model in MODELS)


class ApiTestCase(DatabaseTestCase):
    """Also give each test class an app built with the testing config on that database, and each test a client.

    The app is built once per class (building one costs about as much as a short test). A class whose
    tests change the app itself, such as adding routes, sets `app_per_test = True`.
    """

    config_overrides: ClassVar[dict[str, Any]] = {}
    app_per_test: ClassVar[bool] = False
    shared_app: ClassVar[Flask | None] = None
    app: Flask
    client: FlaskClient

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.shared_app = None if cls.app_per_test else cls.build_app()

    @classmethod
    def build_app(cls) -> Flask:
        overrides = {"MONGODB_URI": mongo_uri(), "MONGODB_DB": cls.db.name, **cls.config_overrides}
        app = create_app("testing", overrides)
        app.test_client_class = ConformingClient  # every response is checked against the OpenAPI document
        return app

    def setUp(self) -> None:
        super().setUp()
        self.app = self.shared_app or self.build_app()
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
