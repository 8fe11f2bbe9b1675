"""The account controller: the caller's profile and administrators."""

from __future__ import annotations

from controller import auth, user
from controller.errors import Forbidden, InvalidInput, NotFound
from tests.base import DatabaseTestCase
from tests.utils.factories import PASSWORD, auth_settings, identity_of, make_user


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
