"""The caller's own account through the API."""

from __future__ import annotations

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

    def test_get_me_for_deleted_account_is_404(self) -> None:
        self.db.users.delete_one({"_id": self.user["_id"]})
        self.assertError(self.client.get(ME, headers=self.headers), 404, "not_found")

    def test_patch_name_trims_and_stores_it(self) -> None:
        response = self.client.patch(ME, json={"name": "  Ada L.  "}, headers=self.headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.get_json()["name"], "Ada L.")
        self.assertEqual(self.db.users.find_one({"_id": self.user["_id"]})["name"], "Ada L.")

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
