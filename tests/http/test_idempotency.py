"""The Idempotency-Key header on POST endpoints: replay, reuse, concurrency, and retries after failures."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import g

from app.http import idempotency
from app.http.idempotency import HEADER, LOCK_S
from controller.account_token import issue_token
from controller.auth import authenticate
from model.mongodb import IdempotencyKey, utcnow
from tests.base import ApiTestCase
from tests.utils.concurrency import run_at_once
from tests.utils.factories import random_email

POSTS = "/api/v1/posts"
SIGNUP = "/api/v1/auth/signup"


class IdempotencyTest(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()
        self.auth_headers = self.headers_for(self.user)
        self.addCleanup(self.app.extensions["jobs"].close)

    def post(self, key: str | None, body: dict[str, Any], *, headers: dict[str, str] | None = None) -> Any:
        extra = {HEADER: key} if key is not None else {}
        return self.client.post(POSTS, json=body, headers={**(headers or self.auth_headers), **extra})

    def test_retry_with_same_key_and_body_replays_the_first_response_and_writes_nothing(self) -> None:
        key, body = str(uuid.uuid4()), {"title": "Once", "body": "only once"}
        first = self.post(key, body)
        self.assertEqual(first.status_code, 201, first.get_data(as_text=True))
        self.assertNotIn("Idempotent-Replayed", first.headers)
        for _ in range(3):
            retry = self.post(key, body)
            self.assertEqual(retry.status_code, 201)
            self.assertEqual(retry.get_json(), first.get_json())
            self.assertEqual(retry.headers["Location"], first.headers["Location"])
            self.assertEqual(retry.headers["Idempotent-Replayed"], "true")
            self.assertEqual(retry.mimetype, "application/json")
        self.assertEqual(self.db.posts.count_documents({}), 1)
        self.assertEqual(self.db.idempotency_keys.count_documents({"state": "done"}), 1)

    def test_same_key_with_another_body_is_422(self) -> None:
        key = str(uuid.uuid4())
        self.assertEqual(self.post(key, {"title": "A", "body": "a"}).status_code, 201)
        self.assertError(self.post(key, {"title": "B", "body": "b"}), 422, "idempotency_key_reused")
        self.assertEqual(self.db.posts.count_documents({}), 1)

    def test_posts_without_key_are_not_deduplicated(self) -> None:
        body = {"title": "Twice", "body": "twice"}
        self.assertEqual(self.post(None, body).status_code, 201)
        self.assertEqual(self.post(None, body).status_code, 201)
        self.assertEqual(self.db.posts.count_documents({}), 2)
        self.assertEqual(self.db.idempotency_keys.count_documents({}), 0)

    def test_key_is_scoped_to_the_caller(self) -> None:
        key, body = str(uuid.uuid4()), {"title": "Mine", "body": "mine"}
        mine = self.post(key, body)
        other = self.make_user()
        theirs = self.post(key, body, headers=self.headers_for(other))
        self.assertEqual((mine.status_code, theirs.status_code), (201, 201))
        self.assertNotEqual(mine.get_json()["id"], theirs.get_json()["id"])
        self.assertEqual(theirs.get_json()["author_id"], str(other["_id"]))
        self.assertNotIn("Idempotent-Replayed", theirs.headers)

    def test_invalid_key_is_400(self) -> None:
        for key in ("", "with space", "x" * 256, "é"):
            with self.subTest(key=key):
                response = self.client.post(
                    POSTS,
                    json={"title": "T", "body": "B"},
                    headers={**self.auth_headers, HEADER: key.encode().decode("latin-1")},
                )
                error = self.assertError(response, 400)
                self.assertIn(HEADER, error["fields"])
        self.assertEqual(self.db.posts.count_documents({}), 0)

    def test_refused_request_releases_the_key_for_a_corrected_retry(self) -> None:
        key = str(uuid.uuid4())
        self.assertError(self.post(key, {"title": "", "body": "b"}), 400)
        self.assertEqual(self.db.idempotency_keys.count_documents({}), 0)
        self.assertEqual(self.post(key, {"title": "Fixed", "body": "b"}).status_code, 201)

    def test_retry_while_the_first_run_holds_the_key_is_409(self) -> None:
        key, body = str(uuid.uuid4()), {"title": "Slow", "body": "slow"}
        self.hold_key(key, body, locked_for=timedelta(seconds=LOCK_S))
        error = self.assertError(self.post(key, body), 409, "request_in_progress")
        self.assertTrue(error["message"])
        self.assertEqual(self.db.posts.count_documents({}), 0)

    def test_retry_after_a_run_that_died_after_writing_returns_its_post_without_a_duplicate(self) -> None:
        # The first run took the key, stored its post, then died before it could keep the response
        # (worker killed, or the database went away before the key was updated): its lock has expired.
        key, body = str(uuid.uuid4()), {"title": "Orphan", "body": "written once"}
        entry = self.hold_key(key, body, locked_for=timedelta(seconds=-1))
        self.db.posts.insert_one(
            {
                "_id": entry["resource_id"],
                "title": "Orphan",
                "body": "written once",
                "tags": [],
                "status": "draft",
                "owner_id": self.user["_id"],
                "published_at": None,
                "schema_version": 1,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
        retry = self.post(key, body)
        self.assertEqual(retry.status_code, 201, retry.get_data(as_text=True))
        self.assertEqual(retry.get_json()["id"], str(entry["resource_id"]))
        self.assertEqual(self.db.posts.count_documents({}), 1)
        self.assertEqual(self.post(key, body).headers["Idempotent-Replayed"], "true")

    def test_simultaneous_retries_create_one_post(self) -> None:
        key, body = str(uuid.uuid4()), {"title": "Race", "body": "race"}

        def send() -> int:
            client = self.app.test_client()
            return client.post(POSTS, json=body, headers={**self.auth_headers, HEADER: key}).status_code

        statuses = run_at_once(4, send)
        self.assertTrue(set(statuses) <= {201, 409}, statuses)
        self.assertIn(201, statuses)
        self.assertEqual(self.db.posts.count_documents({}), 1)

    def test_anonymous_signup_retry_replays_the_created_account(self) -> None:
        key, body = str(uuid.uuid4()), {"email": random_email(), "password": "a long password", "name": "New"}
        first = self.client.post(SIGNUP, json=body, headers={HEADER: key})
        retry = self.client.post(SIGNUP, json=body, headers={HEADER: key})
        self.assertEqual((first.status_code, retry.status_code), (201, 201))
        self.assertEqual(retry.get_json(), first.get_json())
        self.assertEqual(self.db.users.count_documents({"email": body["email"]}), 1)

    def test_retried_password_reset_request_mails_once(self) -> None:
        headers, body = {HEADER: str(uuid.uuid4())}, {"email": self.user["email"]}
        first = self.client.post("/api/v1/auth/password-reset", json=body, headers=headers)
        retry = self.client.post("/api/v1/auth/password-reset", json=body, headers=headers)
        self.assertEqual((first.status_code, retry.status_code), (202, 202))
        self.assertEqual(retry.get_json(), first.get_json())
        queued = [m for m in self.db.celery_messages.find() if "mail.password_reset" in m["payload"]]
        self.assertEqual(len(queued), 1)

    def test_account_post_retry_replays_the_empty_204(self) -> None:
        token = issue_token(
            self.db, purpose="verify_email", user_id=self.user["_id"], email=self.user["email"], ttl=timedelta(hours=1)
        )
        headers = {HEADER: str(uuid.uuid4())}
        first = self.client.post("/api/v1/auth/verify-email", json={"token": token}, headers=headers)
        retry = self.client.post("/api/v1/auth/verify-email", json={"token": token}, headers=headers)
        self.assertEqual((first.status_code, retry.status_code), (204, 204))
        self.assertEqual((retry.data, retry.headers["Idempotent-Replayed"]), (b"", "true"))
        self.assertEqual(retry.headers.get("Content-Type"), first.headers.get("Content-Type"))

    def hold_key(self, key: str, body: dict[str, Any], *, locked_for: timedelta) -> dict[str, Any]:
        """Take `key` for this user and request as a first run would, locked for `locked_for`."""
        with self.app.test_request_context(POSTS, method="POST", json=body, headers={HEADER: key}):
            g.identity = authenticate(self.db, self.auth, self.auth_headers["Authorization"].split()[1])
            key_id, fingerprint = idempotency._key_id(key), idempotency._fingerprint()
        now = utcnow()
        entry, owned = IdempotencyKey(self.db).claim(
            key_id, fingerprint=fingerprint, locked_until=now + locked_for, expires_at=now + timedelta(days=1)
        )
        self.assertTrue(owned)
        return entry


class IdempotencyOpenApiTest(ApiTestCase):
    # Login and refresh answer with tokens, which are not kept at rest; both are safe to retry without a
    # key (a retried login is one more login, a retried refresh gets the same pair within the grace window).
    # A retried logout is a 401 token_revoked: the login it ended is over, which is what the client wanted.
    WITHOUT_KEY = frozenset({"/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout"})

    def test_every_post_operation_declares_the_idempotency_key_header(self) -> None:
        document = self.client.get("/api/v1/openapi.json").get_json()
        posts = {path: item["post"] for path, item in document["paths"].items() if "post" in item}
        self.assertIn(POSTS, posts)
        for path, operation in posts.items():
            with self.subTest(path=path):
                headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
                self.assertEqual(HEADER in headers, path not in self.WITHOUT_KEY)
                if path not in self.WITHOUT_KEY:
                    self.assertTrue({"409", "422"} <= set(operation["responses"]))
