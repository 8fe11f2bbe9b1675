"""The caller's own account through the API."""

from __future__ import annotations

import threading
import time

from tests.base import ApiTestCase
from tests.utils.factories import PASSWORD

ME = "/api/v1/users/me"
NEW_PASSWORD = "a much better passphrase"


class UsersMeApiTest(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user(name="Ada")
        self.headers = self.headers_for(self.user)

    def test_get_me_returns_the_caller_without_hash(self) -> None:
        response = self.client.get(ME, headers=self.headers)
        self.assertEqual(response.status_code, 200)
        body = response.get_json()
        self.assertEqual((body["id"], body["email"], body["name"]), (str(self.user["_id"]), self.user["email"], "Ada"))
        self.assertNotIn("password_hash", body)

    def test_get_me_without_token_is_401(self) -> None:
        self.assertError(self.client.get(ME), 401, "missing_token")

    def test_token_of_deleted_account_is_401_everywhere(self) -> None:
        post = self.client.post("/api/v1/posts", json={"title": "T", "body": "B"}, headers=self.headers).get_json()
        self.db.users.delete_one({"_id": self.user["_id"]})
        self.assertTokenRefusedEverywhere(post["id"], "invalid_token")
        self.assertEqual(self.db.posts.count_documents({}), 1)  # no post without an owner was written

    def test_token_of_disabled_account_is_401_everywhere(self) -> None:
        post = self.client.post("/api/v1/posts", json={"title": "T", "body": "B"}, headers=self.headers).get_json()
        self.db.users.update_one({"_id": self.user["_id"]}, {"$set": {"disabled": True}})
        self.assertTokenRefusedEverywhere(post["id"], "account_disabled")

    def assertTokenRefusedEverywhere(self, post_id: str, code: str) -> None:
        calls = [
            ("get", ME, None),
            ("patch", ME, {"name": "X"}),
            ("delete", ME, {"current_password": PASSWORD}),
            ("post", "/api/v1/posts", {"title": "T", "body": "B"}),
            ("get", f"/api/v1/posts/{post_id}", None),
            ("patch", f"/api/v1/posts/{post_id}", {"title": "New"}),
            ("delete", f"/api/v1/posts/{post_id}", None),
            ("post", "/api/v1/auth/logout", None),
        ]
        for method, path, body in calls:
            with self.subTest(method=method, path=path):
                response = getattr(self.client, method)(path, json=body, headers=self.headers)
                self.assertError(response, 401, code)

    def test_patch_name_trims_and_stores_it(self) -> None:
        response = self.client.patch(ME, json={"name": "  Ada L.  "}, headers=self.headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.get_json()["name"], "Ada L.")
        self.assertEqual(self.db.users.find_one({"_id": self.user["_id"]})["name"], "Ada L.")

    def test_patch_name_with_line_break_or_bidi_override_is_400(self) -> None:
        for bad in ("Ada\r\nX-Evil: 1", "Ada\u202eevil", "Ada\u0000"):
            with self.subTest(bad=ascii(bad)):
                error = self.assertError(self.client.patch(ME, json={"name": bad}, headers=self.headers), 400)
                self.assertIn("name", error["fields"])
        self.assertEqual(self.db.users.find_one({"_id": self.user["_id"]})["name"], self.user["name"])

    def test_patch_password_needs_current_password(self) -> None:
        error = self.assertError(self.client.patch(ME, json={"password": NEW_PASSWORD}, headers=self.headers), 400)
        self.assertIn("current_password", error["fields"])

    def test_patch_password_with_wrong_current_password_is_403(self) -> None:
        body = {"password": NEW_PASSWORD, "current_password": "not the password"}
        self.assertError(self.client.patch(ME, json=body, headers=self.headers), 403, "wrong_password")
        self.login(self.user)  # unchanged

    def test_patch_password_with_weak_password_is_400(self) -> None:
        for weak in ("short", " " * 10):
            with self.subTest(weak=weak):
                body = {"password": weak, "current_password": PASSWORD}
                error = self.assertError(self.client.patch(ME, json=body, headers=self.headers), 400)
                self.assertIn("password", error["fields"])

    def test_patch_password_changes_it_and_signs_out_every_session(self) -> None:
        other_session = self.headers_for(self.user)
        body = {"password": NEW_PASSWORD, "current_password": PASSWORD}
        response = self.client.patch(ME, json=body, headers=self.headers)
        self.assertEqual(response.status_code, 200)
        for headers in (self.headers, other_session):
            self.assertError(self.client.get(ME, headers=headers), 401, "token_revoked")
        wrong = self.client.post("/api/v1/auth/login", json={"email": self.user["email"], "password": PASSWORD})
        self.assertError(wrong, 401)
        fresh = self.login(self.user, NEW_PASSWORD)
        self.assertEqual(
            self.client.get(ME, headers={"Authorization": f"Bearer {fresh['access_token']}"}).status_code, 200
        )

    def test_patch_nothing_is_400(self) -> None:
        self.assertError(self.client.patch(ME, json={}, headers=self.headers), 400, "nothing_to_change")

    def test_patch_cannot_change_role_email_or_hash(self) -> None:
        for body in ({"role": "admin"}, {"email": "x@example.com"}, {"password_hash": "x"}):
            with self.subTest(body=body):
                self.assertError(self.client.patch(ME, json=body, headers=self.headers), 400, "validation_error")
        self.assertEqual(self.db.users.find_one({"_id": self.user["_id"]})["role"], "user")


class DeleteMeApiTest(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user(name="Ada")
        self.headers = self.headers_for(self.user)

    def test_delete_me_needs_the_current_password(self) -> None:
        error = self.assertError(self.client.delete(ME, json={}, headers=self.headers), 400)
        self.assertIn("current_password", error["fields"])
        body = {"current_password": "not the password"}
        self.assertError(self.client.delete(ME, json=body, headers=self.headers), 403, "wrong_password")
        self.assertEqual(self.client.get(ME, headers=self.headers).status_code, 200)

    def test_delete_me_removes_account_posts_and_every_token(self) -> None:
        other_session = self.headers_for(self.user)
        refresh_token = self.login(self.user)["refresh_token"]
        self.client.post("/api/v1/posts", json={"title": "T", "body": "B", "status": "published"}, headers=self.headers)
        stranger = self.make_user()
        kept = self.client.post("/api/v1/posts", json={"title": "K", "body": "B"}, headers=self.headers_for(stranger))
        response = self.client.delete(ME, json={"current_password": PASSWORD}, headers=self.headers)
        self.assertEqual(response.status_code, 204, response.get_data(as_text=True))
        for headers in (self.headers, other_session):
            self.assertError(self.client.get(ME, headers=headers), 401)
        self.assertError(self.client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token}), 401)
        self.assertEqual([str(p["_id"]) for p in self.db.posts.find()], [kept.get_json()["id"]])
        body = {"email": self.user["email"], "password": PASSWORD}
        self.assertError(self.client.post("/api/v1/auth/login", json=body), 401, "invalid_credentials")

    def test_creates_racing_the_deletion_leave_no_post_behind(self) -> None:
        # Several clients keep creating posts while the account is deleted (an outside finding: 1-2 posts
        # survived in half the trials). Each create either lands before the deletion's sweep or is refused.
        statuses: list[int] = []

        def create_until_refused() -> None:
            client = self.app.test_client()
            for _ in range(500):  # until the deletion refuses it (bounded)
                body = {"title": "Racing", "body": "B", "status": "published"}
                status = client.post("/api/v1/posts", json=body, headers=self.headers).status_code
                statuses.append(status)
                if status == 401:
                    return

        def delete_soon() -> int:
            deadline = time.monotonic() + 30
            while len(statuses) < 12 and time.monotonic() < deadline:  # in the middle of the creates
                time.sleep(0.005)
            return (
                self.app.test_client().delete(ME, json={"current_password": PASSWORD}, headers=self.headers).status_code
            )

        racers = [threading.Thread(target=create_until_refused) for _ in range(6)]
        for racer in racers:
            racer.start()
        self.assertEqual(delete_soon(), 204)
        for racer in racers:
            racer.join(60)
        self.assertIn(201, statuses)
        self.assertEqual(statuses.count(401), 6, "every client was refused once the account was gone")
        self.assertEqual(self.db.posts.count_documents({"owner_id": self.user["_id"]}), 0)
