"""The account controller: the caller's profile and administrators."""

from __future__ import annotations

import threading
from typing import Any

from argon2 import PasswordHasher

from controller import auth, user
from controller.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from tests.base import DatabaseTestCase
from tests.utils.factories import PASSWORD, auth_settings, identity_of, make_post, make_user


class GatedHasher(PasswordHasher):
    """A real Argon2id hasher whose verify, once done, waits until the test lets it return."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified = threading.Event()
        self.release = threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        result = super().verify(hash, password)
        self.verified.set()
        self.release.wait(10)
        return result


class UserControllerTest(DatabaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.auth = auth_settings()
        self.user = make_user(self.db, self.auth, name="Ada")
        self.identity = identity_of(self.user)

    def test_get_me_returns_public_user(self) -> None:
        me = user.get_me(self.db, self.identity)
        self.assertEqual((me["id"], me["name"]), (self.user["_id"], "Ada"))
        self.assertNotIn("password_hash", me)

    def test_get_me_for_missing_account_is_not_found(self) -> None:
        self.db.users.delete_many({})
        with self.assertRaises(NotFound):
            user.get_me(self.db, self.identity)

    def test_update_me_changes_name(self) -> None:
        self.assertEqual(user.update_me(self.db, self.auth, self.identity, name=" Ada B ")["name"], "Ada B")

    def test_update_me_password_rules(self) -> None:
        with self.assertRaises(InvalidInput):
            user.update_me(self.db, self.auth, self.identity)
        with self.assertRaises(InvalidInput):
            user.update_me(self.db, self.auth, self.identity, password="new password 1")
        with self.assertRaises(Forbidden):
            user.update_me(self.db, self.auth, self.identity, password="new password 1", current_password="nope")
        user.update_me(self.db, self.auth, self.identity, password="new password 1", current_password=PASSWORD)
        auth.login(self.db, self.auth, email=self.user["email"], password="new password 1")
        self.assertEqual(self.db.logs.count_documents({"event": "user.password_changed"}), 1)

    def test_create_admin_promotes_existing_account(self) -> None:
        account, created = user.create_admin(self.db, self.auth, email=self.user["email"].upper())
        self.assertFalse(created)
        self.assertEqual(account["role"], "admin")
        self.assertEqual(self.db.users.count_documents({}), 1)

    def test_create_admin_creates_missing_account(self) -> None:
        account, created = user.create_admin(
            self.db, self.auth, email="root@example.com", name="Root", password="admin password"
        )
        self.assertTrue(created)
        self.assertEqual((account["email"], account["role"]), ("root@example.com", "admin"))

    def test_create_admin_for_new_account_needs_name_and_password(self) -> None:
        with self.assertRaises(InvalidInput):
            user.create_admin(self.db, self.auth, email="root@example.com")
        with self.assertRaises(InvalidInput):
            user.create_admin(self.db, self.auth, email="not an email", name="x", password="y" * 10)

    def test_login_racing_a_password_change_gets_no_usable_token(self) -> None:
        # The login verifies the old password, then the owner changes it, then the login completes.
        hasher = GatedHasher()
        gated = auth_settings(hasher=hasher)
        outcome: dict[str, Any] = {}

        def log_in() -> None:
            try:
                outcome["tokens"] = auth.login(self.db, gated, email=self.user["email"], password=PASSWORD)
            except Unauthorized as error:
                outcome["error"] = error

        racer = threading.Thread(target=log_in)
        racer.start()
        self.assertTrue(hasher.verified.wait(10))
        user.update_me(self.db, self.auth, self.identity, password="new password 1", current_password=PASSWORD)
        hasher.release.set()
        racer.join(10)
        self.assertFalse(racer.is_alive())
        self.assertIn("error", outcome, "a login that verified a replaced password got tokens")
        self.assertEqual(outcome["error"].code, "invalid_credentials")

    def test_password_change_ends_tokens_issued_before_it(self) -> None:
        tokens = auth.login(self.db, self.auth, email=self.user["email"], password=PASSWORD)
        user.update_me(self.db, self.auth, self.identity, password="new password 1", current_password=PASSWORD)
        with self.assertRaises(Unauthorized):
            auth.authenticate(self.db, self.auth, tokens["access_token"])
        with self.assertRaises(Unauthorized):
            auth.refresh(self.db, self.auth, refresh_token=tokens["refresh_token"])

    def test_delete_me_with_wrong_password_is_forbidden_and_keeps_everything(self) -> None:
        make_post(self.db, self.user)
        with self.assertRaises(Forbidden):
            user.delete_me(self.db, self.auth, self.identity, current_password="wrong password")
        self.assertEqual(self.db.users.count_documents({}), 1)
        self.assertEqual(self.db.posts.count_documents({}), 1)

    def test_delete_me_removes_account_posts_and_every_token(self) -> None:
        other = make_user(self.db, self.auth)
        make_post(self.db, self.user)
        make_post(self.db, self.user, status="published")
        kept = make_post(self.db, other)
        tokens = [auth.login(self.db, self.auth, email=self.user["email"], password=PASSWORD) for _ in range(2)]
        self.assertEqual(user.delete_me(self.db, self.auth, self.identity, current_password=PASSWORD), 2)
        self.assertIsNone(self.db.users.find_one({"_id": self.user["_id"]}))
        self.assertEqual([p["_id"] for p in self.db.posts.find()], [kept["id"]])
        for pair in tokens:
            with self.assertRaises(Unauthorized):
                auth.authenticate(self.db, self.auth, pair["access_token"])
            with self.assertRaises(Unauthorized):
                auth.refresh(self.db, self.auth, refresh_token=pair["refresh_token"])
        entry = self.db.logs.find_one({"event": "user.deleted"})
        self.assertEqual(entry["actor"], str(self.user["_id"]))
        self.assertEqual(entry["detail"], {"user_id": str(self.user["_id"]), "posts_deleted": 2})
