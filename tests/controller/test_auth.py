"""The auth controller, on a real database and without an app."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from argon2 import PasswordHasher

from controller import auth
from controller.errors import Unauthorized
from tests.base import DatabaseTestCase
from tests.utils.concurrency import run_at_once
from tests.utils.factories import PASSWORD, auth_settings, make_user


class CountingHasher(PasswordHasher):
    """A real Argon2id hasher that counts verifications."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verifications += 1
        return super().verify(hash, password)


class AuthControllerTest(DatabaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.auth = auth_settings()

    def test_unknown_email_still_runs_one_password_verification(self) -> None:
        hasher = CountingHasher()
        counting = auth_settings(hasher=hasher)
        make_user(self.db, counting, email="known@example.com")
        for email in ("known@example.com", "unknown@example.com"):
            before = hasher.verifications
            with self.subTest(email=email), self.assertRaises(Unauthorized):
                auth.login(self.db, counting, email=email, password="wrong password")
            self.assertEqual(hasher.verifications - before, 1)

    def test_login_rehashes_when_cost_parameters_change(self) -> None:
        user = make_user(self.db, self.auth)
        stronger = auth_settings(hasher=PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
        auth.login(self.db, stronger, email=user["email"], password=PASSWORD)
        stored = self.db.users.find_one({"_id": user["_id"]})["password_hash"]
        self.assertIn("m=2048,t=2", stored)

    def test_authenticate_returns_identity_and_rejects_refresh_tokens(self) -> None:
        user = make_user(self.db, self.auth, role="admin")
        tokens = auth.login(self.db, self.auth, email=user["email"], password=PASSWORD)
        identity = auth.authenticate(self.db, self.auth, tokens["access_token"])
        self.assertEqual((identity.user_id, identity.role, identity.is_admin), (user["_id"], "admin", True))
        with self.assertRaises(Unauthorized):
            auth.authenticate(self.db, self.auth, tokens["refresh_token"])

    def test_expired_access_token_is_rejected(self) -> None:
        short = auth_settings(access_ttl=timedelta(seconds=-1))
        user = make_user(self.db, short)
        tokens = auth.login(self.db, short, email=user["email"], password=PASSWORD)
        with self.assertRaises(Unauthorized) as caught:
            auth.authenticate(self.db, short, tokens["access_token"])
        self.assertEqual(caught.exception.code, "token_expired")

    def test_refresh_rotates_and_detects_reuse_after_the_grace_window(self) -> None:
        strict = auth_settings(refresh_grace=timedelta(0))
        user = make_user(self.db, strict)
        first = auth.login(self.db, strict, email=user["email"], password=PASSWORD)
        second = auth.refresh(self.db, strict, refresh_token=first["refresh_token"])
        with self.assertRaises(Unauthorized):
            auth.refresh(self.db, strict, refresh_token=first["refresh_token"])
        with self.assertRaises(Unauthorized):
            auth.authenticate(self.db, strict, second["access_token"])

    def test_refresh_again_within_the_grace_window_returns_the_pair_already_issued(self) -> None:
        user = make_user(self.db, self.auth)
        first = auth.login(self.db, self.auth, email=user["email"], password=PASSWORD)
        second = auth.refresh(self.db, self.auth, refresh_token=first["refresh_token"])
        again = auth.refresh(self.db, self.auth, refresh_token=first["refresh_token"])
        self.assertEqual(again, second)
        self.assertEqual(auth.authenticate(self.db, self.auth, again["access_token"]).user_id, user["_id"])
        third = auth.refresh(self.db, self.auth, refresh_token=again["refresh_token"])
        self.assertNotEqual(third["refresh_token"], second["refresh_token"])
        self.assertEqual(self.db.logs.count_documents({"event": "auth.refresh_reuse_detected"}), 0)

    def test_grace_replay_of_a_token_whose_successor_was_rotated_is_reuse(self) -> None:
        user = make_user(self.db, self.auth)
        first = auth.login(self.db, self.auth, email=user["email"], password=PASSWORD)
        second = auth.refresh(self.db, self.auth, refresh_token=first["refresh_token"])
        third = auth.refresh(self.db, self.auth, refresh_token=second["refresh_token"])
        # Still the live end of the chain: a retry of the last refresh gets the same pair.
        self.assertEqual(auth.refresh(self.db, self.auth, refresh_token=second["refresh_token"]), third)
        with self.assertRaises(Unauthorized) as caught:
            auth.refresh(self.db, self.auth, refresh_token=first["refresh_token"])
        self.assertEqual(caught.exception.code, "token_revoked")
        self.assertEqual(self.db.logs.count_documents({"event": "auth.refresh_reuse_detected"}), 1)
        with self.assertRaises(Unauthorized):
            auth.authenticate(self.db, self.auth, third["access_token"])
        with self.assertRaises(Unauthorized):
            auth.refresh(self.db, self.auth, refresh_token=third["refresh_token"])

    def test_refresh_with_an_access_token_names_the_expected_type(self) -> None:
        user = make_user(self.db, self.auth)
        tokens = auth.login(self.db, self.auth, email=user["email"], password=PASSWORD)
        with self.assertRaises(Unauthorized) as caught:
            auth.refresh(self.db, self.auth, refresh_token=tokens["access_token"])
        self.assertEqual(caught.exception.message, "A refresh token is required.")
        with self.assertRaises(Unauthorized) as caught:
            auth.authenticate(self.db, self.auth, tokens["refresh_token"])
        self.assertEqual(caught.exception.message, "An access token is required.")

    def test_simultaneous_refreshes_of_one_token_get_one_pair_and_keep_the_login(self) -> None:
        user = make_user(self.db, self.auth)
        for trial in range(10):
            with self.subTest(trial=trial):
                token = auth.login(self.db, self.auth, email=user["email"], password=PASSWORD)["refresh_token"]
                results = run_at_once(2, partial(auth.refresh, self.db, self.auth, refresh_token=token))
                self.assertEqual(results[0], results[1])
                auth.authenticate(self.db, self.auth, results[0]["access_token"])
                auth.refresh(self.db, self.auth, refresh_token=results[0]["refresh_token"])
        self.assertEqual(self.db.logs.count_documents({"event": "auth.refresh_reuse_detected"}), 0)

    def test_refresh_for_deleted_user_is_rejected(self) -> None:
        user = make_user(self.db, self.auth)
        tokens = auth.login(self.db, self.auth, email=user["email"], password=PASSWORD)
        self.db.users.delete_one({"_id": user["_id"]})
        with self.assertRaises(Unauthorized):
            auth.refresh(self.db, self.auth, refresh_token=tokens["refresh_token"])

    def test_revoke_user_tokens_spares_later_logins(self) -> None:
        user = make_user(self.db, self.auth)
        before = auth.login(self.db, self.auth, email=user["email"], password=PASSWORD)
        auth.revoke_user_tokens(self.db, self.auth, user["_id"])
        after = auth.login(self.db, self.auth, email=user["email"], password=PASSWORD)
        with self.assertRaises(Unauthorized):
            auth.authenticate(self.db, self.auth, before["access_token"])
        self.assertEqual(auth.authenticate(self.db, self.auth, after["access_token"]).user_id, user["_id"])

    def test_token_of_deleted_or_disabled_account_is_rejected(self) -> None:
        for state in ("deleted", "disabled"):
            user = make_user(self.db, self.auth)
            tokens = auth.login(self.db, self.auth, email=user["email"], password=PASSWORD)
            if state == "deleted":
                self.db.users.delete_one({"_id": user["_id"]})
            else:
                self.db.users.update_one({"_id": user["_id"]}, {"$set": {"disabled": True}})
            with self.subTest(state=state), self.assertRaises(Unauthorized):
                auth.authenticate(self.db, self.auth, tokens["access_token"])
            with self.subTest(state=state), self.assertRaises(Unauthorized):
                auth.refresh(self.db, self.auth, refresh_token=tokens["refresh_token"])

    def test_disabled_account_cannot_log_in(self) -> None:
        user = make_user(self.db, self.auth)
        self.db.users.update_one({"_id": user["_id"]}, {"$set": {"disabled": True}})
        with self.assertRaises(Unauthorized) as caught:
            auth.login(self.db, self.auth, email=user["email"], password=PASSWORD)
        self.assertEqual(caught.exception.code, "invalid_credentials")

    def test_role_comes_from_the_account_as_it_is_now(self) -> None:
        user = make_user(self.db, self.auth, role="admin")
        tokens = auth.login(self.db, self.auth, email=user["email"], password=PASSWORD)
        self.db.users.update_one({"_id": user["_id"]}, {"$set": {"role": "user"}})
        self.assertEqual(auth.authenticate(self.db, self.auth, tokens["access_token"]).role, "user")
