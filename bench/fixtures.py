"""The benchmark's database: an embedded server with one user, its access token and one published post."""

from __future__ import annotations

import secrets
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher
from pymongo import MongoClient

from controller.auth import AuthSettings, authenticate, login
from controller.post import create_post
from controller.user import signup
from dev.embedded_mongo import server_uri, start_server
from model import migrations
from model.mongodb import init_db


@dataclass(frozen=True)
class Fixtures:
    """What every app is started with and loaded against."""

    database: subprocess.Popen[bytes]
    uri: str
    secret: str
    token: str
    post_id: str


def start_database(workdir: Path) -> Fixtures:
    """Start an in-memory embedded database, bring it up to date as `flask db-init && flask db-migrate` do, seed it."""
    with open(workdir / "db.log", "wb") as db_log:
        database, port = start_server(":memory:", db_log, durable=False)
    secret = secrets.token_urlsafe(48)
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    auth = AuthSettings(secret, timedelta(hours=1), timedelta(days=1), hasher)
    client: MongoClient[dict[str, object]] = MongoClient(server_uri(port), tz_aware=True)
    db = client["bench"]
    init_db(db)
    migrations.migrate(db, migrations.discover())  # else production answers 503 schema_outdated
    password = secrets.token_urlsafe(16)
    user = signup(db, auth, email="bench@example.com", password=password, name="Bench")
    token = login(db, auth, email=user["email"], password=password)["access_token"]
    post = create_post(db, authenticate(db, auth, token), title="Benchmark", body="Text " * 40, status="published")
    client.close()
    return Fixtures(database, server_uri(port), secret, token, str(post["id"]))


def stop_database(fixtures: Fixtures) -> None:
    """Stop the embedded database (SIGTERM, as its documentation asks)."""
    fixtures.database.terminate()
    fixtures.database.wait(30)
