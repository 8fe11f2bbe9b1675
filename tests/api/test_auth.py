"""Sign-up, login, refresh and logout through the API, including the abuse cases."""

from __future__ import annotations

import time
import warnings
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import jwt

from tests.base import ApiTestCase
from tests.utils.concurrency import run_at_once
from tests.utils.factories import PASSWORD, random_email

AUTH = "/api/v1/auth"


class SignupApiTest(ApiTestCase):
    def test_signup_returns_201_with_user_and_no_hash(self) -> None:
        response = self.client.post(
            f"{AUTH}/signup", json={"email": "  Ada@Example.COM ", "password": PASSWORD, "name": " Ada "}
        )
        self.assertEqual(response.status_code, 201, response.get_data(as_text=True))
        body = response.get_json()
        self.assertEqual(set(body), {"id", "email", "name", "role", "email_verified", "created_at", "updated_at"})
        self.assertEqual((body["email"], body["name"], body["role"]), ("ada@example.com", "Ada", "user"))
        self.assertTrue(response.headers["Location"].endswith("/api/v1/users/me"))
        stored = self.db.users.find_one({"email": "ada@example.com"})
        self.assertTrue(stored["password_hash"].startswith("$argon2id$"))
        self.assertNotIn(PASSWORD, stored["password_hash"])

    def test_signup_with_taken_email_in_other_case_is_409(self) -> None:
        self.make_user(email="taken@example.com")
        response = self.client.post(
            f"{AUTH}/signup", json={"email": "TAKEN@example.com ", "password": PASSWORD, "name": "B"}
        )
        self.assertError(response, 409, "email_taken")
        self.assertEqual(self.db.users.count_documents({}), 1)

    def test_signup_cannot_set_role_or_other_fields(self) -> None:
        for extra in ({"role": "admin"}, {"_id": "x"}, {"password_hash": "x"}, {"created_at": "2020-01-01"}):
            with self.subTest(extra=extra):
                body = {"email": random_email(), "password": PASSWORD, "name": "Eve", **extra}
                error = self.assertError(self.client.post(f"{AUTH}/signup", json=body), 400, "validation_error")
                self.assertEqual(set(error["fields"]), set(extra))
        self.assertEqual(self.db.users.count_documents({}), 0)

    def test_signup_with_invalid_input_is_400_naming_the_field(self) -> None:
        cases = {
            "email": {"email": "not-an-email", "password": PASSWORD, "name": "A"},
            "password": {"email": random_email(), "password": "short", "name": "A"},
            "name": {"email": random_email(), "password": PASSWORD, "name": "   "},
        }
        for field, body in cases.items():
            with self.subTest(field=field):
                error = self.assertError(self.client.post(f"{AUTH}/signup", json=body), 400)
                self.assertIn(field, error["fields"])
        spaces = {"email": random_email(), "password": " " * 12, "name": "A"}
        self.assertIn("password", self.assertError(self.client.post(f"{AUTH}/signup", json=spaces), 400)["fields"])
        self.assertEqual(self.db.users.count_documents({}), 0)

    def test_signup_with_missing_fields_reports_all(self) -> None:
        error = self.assertError(self.client.post(f"{AUTH}/signup", json={}), 400, "validation_error")
        self.assertEqual(set(error["fields"]), {"email", "password", "name"})

    def test_signup_refuses_control_and_bidi_characters_in_the_email(self) -> None:
        for bad in ("a@example.com\u0000.evil", "a\u202e@example.com", "a@exam\u202eple.com", "a\u0007b@example.com"):
            with self.subTest(email=ascii(bad)):
                body = {"email": bad, "password": "long enough pw", "name": "Eve"}
                error = self.assertError(self.client.post(f"{AUTH}/signup", json=body), 400)
                self.assertIn("email", error["fields"])
        self.assertEqual(self.db.users.count_documents({}), 0)


class LoginApiTest(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user(email="ada@example.com")

    def test_login_returns_bearer_token_pair(self) -> None:
        response = self.client.post(f"{AUTH}/login", json={"email": " ADA@example.com", "password": PASSWORD})
        self.assertEqual(response.status_code, 200)
        body = response.get_json()
        self.assertEqual(set(body), {"access_token", "refresh_token", "token_type", "expires_in"})
        self.assertEqual((body["token_type"], body["expires_in"]), ("Bearer", 900))
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        self.assertEqual((claims["sub"], claims["type"]), (str(self.user["_id"]), "access"))

    def test_wrong_password_and_unknown_email_give_the_same_401(self) -> None:
        wrong_password = self.client.post(f"{AUTH}/login", json={"email": "ada@example.com", "password": "x" * 9})
        unknown_email = self.client.post(f"{AUTH}/login", json={"email": "bob@example.com", "password": PASSWORD})
        first = self.assertError(wrong_password, 401, "invalid_credentials")
        second = self.assertError(unknown_email, 401, "invalid_credentials")
        self.assertEqual(first["message"], second["message"])
        self.assertEqual(wrong_password.headers["WWW-Authenticate"], "Bearer")
        self.assertEqual(unknown_email.headers["WWW-Authenticate"], "Bearer")

    def test_operator_injection_is_400_before_any_query(self) -> None:
        payloads = [
            {"email": {"$ne": None}, "password": PASSWORD},
            {"email": {"$regex": ".*"}, "password": {"$ne": ""}},
            {"email": ["ada@example.com"], "password": PASSWORD},
            {"email": "ada@example.com", "password": {"$gt": ""}},
        ]
        for body in payloads:
            with self.subTest(body=body):
                self.assertError(self.client.post(f"{AUTH}/login", json=body), 400, "validation_error")


class TokenApiTest(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()
        self.tokens = self.login(self.user)

    def me(self, token: str) -> object:
        return self.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})

    def forge(self, claims: dict, *, key: str | None = None, algorithm: str = "HS256") -> str:
        base = jwt.decode(self.tokens["access_token"], options={"verify_signature": False})
        return jwt.encode({**base, **claims}, key or self.app.config["SECRET_KEY"], algorithm=algorithm)

    def assertRejected(self, response: object, code: str = "invalid_token") -> None:
        self.assertError(response, 401, code)
        self.assertEqual(response.headers["WWW-Authenticate"], "Bearer")

    def test_access_token_reaches_protected_view(self) -> None:
        response = self.me(self.tokens["access_token"])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.get_json()["id"], str(self.user["_id"]))

    def test_missing_or_malformed_authorization_is_401(self) -> None:
        self.assertRejected(self.client.get("/api/v1/users/me"), "missing_token")
        for header in ("Basic abc", "Bearer", "Bearer ", "token", "Bearer " + "a" * 5000):
            with self.subTest(header=header[:20]):
                self.assertRejected(self.client.get("/api/v1/users/me", headers={"Authorization": header}))

    def test_expired_token_is_401_token_expired(self) -> None:
        self.assertRejected(self.me(self.forge({"exp": int(time.time()) - 10})), "token_expired")

    def test_tampered_token_is_401(self) -> None:
        header, payload, signature = self.tokens["access_token"].split(".")
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
        self.assertRejected(self.me(f"{header}.{payload}.{flipped}"))
        other_payload = jwt.encode({"sub": "x"}, "k" * 32).split(".")[1]
        self.assertRejected(self.me(f"{header}.{other_payload}.{signature}"))
        self.assertRejected(self.me("not.a.jwt"))

    def test_token_signed_with_other_key_is_401(self) -> None:
        self.assertRejected(self.me(self.forge({}, key="another-secret-key-of-enough-length!")))

    def test_alg_none_and_other_algorithms_are_401(self) -> None:
        claims = jwt.decode(self.tokens["access_token"], options={"verify_signature": False})
        unsigned = jwt.encode(claims, None, algorithm="none")
        self.assertRejected(self.me(unsigned))
        self.assertRejected(self.me(unsigned.rstrip(".") + ".c2ln"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyJWT warns that the key is short for HS512; that is the point
            self.assertRejected(self.me(self.forge({}, algorithm="HS512")))

    def test_refresh_token_used_as_access_token_is_401(self) -> None:
        self.assertRejected(self.me(self.tokens["refresh_token"]))

    def test_access_token_used_as_refresh_token_is_401(self) -> None:
        response = self.client.post(f"{AUTH}/refresh", json={"refresh_token": self.tokens["access_token"]})
        self.assertRejected(response)

    def test_token_with_missing_or_bad_claims_is_401(self) -> None:
        for claims in ({"sub": "not-an-id"}, {"role": "root"}, {"sid": 5}, {"iat": "yesterday"}):
            with self.subTest(claims=claims):
                self.assertRejected(self.me(self.forge(claims)))

    def test_refresh_returns_new_pair_and_retires_the_old_one(self) -> None:
        response = self.client.post(f"{AUTH}/refresh", json={"refresh_token": self.tokens["refresh_token"]})
        self.assertEqual(response.status_code, 200)
        fresh = response.get_json()
        self.assertNotEqual(fresh["refresh_token"], self.tokens["refresh_token"])
        self.assertEqual(self.me(fresh["access_token"]).status_code, 200)
        # The old access token belongs to the consumed session.
        self.assertRejected(self.me(self.tokens["access_token"]), "token_revoked")

    def test_reused_refresh_token_after_the_grace_window_is_401_and_revokes_the_family(self) -> None:
        first = self.client.post(f"{AUTH}/refresh", json={"refresh_token": self.tokens["refresh_token"]}).get_json()
        # The grace window (REFRESH_REUSE_GRACE_S) has passed since the token was used.
        used_at = datetime.now(UTC) - timedelta(seconds=self.app.config["REFRESH_REUSE_GRACE_S"] + 1)
        self.db.revoked_tokens.update_many({"_id": {"$regex": "^sid:"}}, {"$set": {"created_at": used_at}})
        replay = self.client.post(f"{AUTH}/refresh", json={"refresh_token": self.tokens["refresh_token"]})
        self.assertRejected(replay, "token_revoked")
        # The chain that followed the stolen token dies too.
        self.assertRejected(self.me(first["access_token"]), "token_revoked")
        later = self.client.post(f"{AUTH}/refresh", json={"refresh_token": first["refresh_token"]})
        self.assertRejected(later, "token_revoked")
        self.assertEqual(self.db.logs.count_documents({"event": "auth.refresh_reuse_detected"}), 1)
        # Another login is unaffected.
        self.assertEqual(self.me(self.login(self.user)["access_token"]).status_code, 200)

    def test_simultaneous_refreshes_return_the_same_pair_and_keep_the_login(self) -> None:
        for trial in range(10):
            with self.subTest(trial=trial):
                body = {"refresh_token": self.login(self.user)["refresh_token"]}
                (status_a, pair_a), (status_b, pair_b) = run_at_once(2, partial(self.refresh_in_thread, body))
                self.assertEqual((status_a, status_b), (200, 200))
                self.assertEqual(pair_a, pair_b)
                self.assertEqual(self.me(pair_a["access_token"]).status_code, 200)
                later = self.client.post(f"{AUTH}/refresh", json={"refresh_token": pair_a["refresh_token"]})
                self.assertEqual(later.status_code, 200)
        self.assertEqual(self.db.logs.count_documents({"event": "auth.refresh_reuse_detected"}), 0)

    def refresh_in_thread(self, body: dict[str, str]) -> tuple[int, Any]:
        response = self.app.test_client().post(f"{AUTH}/refresh", json=body)
        return response.status_code, response.get_json()

    def test_logout_revokes_access_and_refresh_tokens(self) -> None:
        other_login = self.login(self.user)
        headers = {"Authorization": f"Bearer {self.tokens['access_token']}"}
        response = self.client.post(f"{AUTH}/logout", headers=headers)
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response.data, b"")
        self.assertNotIn("Content-Type", response.headers)
        self.assertRejected(self.me(self.tokens["access_token"]), "token_revoked")
        refresh = self.client.post(f"{AUTH}/refresh", json={"refresh_token": self.tokens["refresh_token"]})
        self.assertRejected(refresh, "token_revoked")
        self.assertEqual(self.me(other_login["access_token"]).status_code, 200)

    def test_logout_refuses_a_body_and_keeps_the_tokens(self) -> None:
        headers = {"Authorization": f"Bearer {self.tokens['access_token']}"}
        with_fields = self.client.post(f"{AUTH}/logout", json={"role": "admin"}, headers=headers)
        self.assertEqual(self.assertError(with_fields, 400, "validation_error")["fields"], {"role": "Unknown field."})
        malformed = self.client.post(
            f"{AUTH}/logout", data="{not json", headers={**headers, "Content-Type": "application/json"}
        )
        self.assertError(malformed, 400, "malformed_json")
        self.assertEqual(self.me(self.tokens["access_token"]).status_code, 200)  # nothing was revoked
        self.assertEqual(self.client.post(f"{AUTH}/logout", json={}, headers=headers).status_code, 204)

    def test_logout_without_token_is_401(self) -> None:
        self.assertRejected(self.client.post(f"{AUTH}/logout"), "missing_token")

    def test_revocations_expire_through_a_ttl_index(self) -> None:
        index = self.db.revoked_tokens.index_information()["ttl_expires_at"]
        self.assertEqual((index["key"], index["expireAfterSeconds"]), ([("expires_at", 1)], 0))
