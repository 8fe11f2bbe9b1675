"""Rate limits in layers: per address on password work, per account on failed password checks."""

from __future__ import annotations

import time
from typing import Any

from app import create_app
from config import ConfigError
from tests.base import ApiTestCase, mongo_uri
from tests.utils.factories import PASSWORD

AUTH = "/api/v1/auth"
ME = "/api/v1/users/me"
WRONG = "not the password"


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


class AddressLimitTest(ApiTestCase):
    config_overrides = {"RATELIMIT_AUTH": "3/minute"}

    def test_login_over_the_limit_is_429_with_retry_after(self) -> None:
        body = {"email": "nobody@example.com", "password": "whatever1"}
        for _ in range(3):
            self.assertError(self.client.post(f"{AUTH}/login", json=body), 401)
        response = self.client.post(f"{AUTH}/login", json=body)
        self.assertError(response, 429, "too_many_requests")
        self.assertTrue(1 <= int(response.headers["Retry-After"]) <= 60, response.headers["Retry-After"])

    def test_every_password_endpoint_shares_the_limit_per_address(self) -> None:
        user = self.make_user()
        headers = {"Authorization": f"Bearer {self.login(user)['access_token']}"}  # 1
        self.client.post(f"{AUTH}/signup", json={})  # 2
        self.client.patch(ME, json={"password": "new password 1", "current_password": WRONG}, headers=headers)  # 3
        self.assertError(self.client.delete(ME, json={"current_password": WRONG}, headers=headers), 429)
        self.assertError(self.client.post(f"{AUTH}/login", json={}), 429)
        self.assertError(self.client.post(f"{AUTH}/login", json={}, **from_address("10.9.8.7")), 400)

    def test_name_change_checks_no_password_and_is_not_limited(self) -> None:
        user = self.make_user()
        headers = {"Authorization": f"Bearer {self.login(user)['access_token']}"}
        for _ in range(4):
            self.assertEqual(self.client.patch(ME, json={"name": "Ada"}, headers=headers).status_code, 200)

    def test_the_limit_is_shared_by_every_app_on_the_database(self) -> None:
        # Two apps on one database stand for two workers or two hosts.
        other = create_app("testing", {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name, **self.config_overrides})
        for client in (self.client, other.test_client(), self.client):
            client.post(f"{AUTH}/login", json={})
        self.assertError(other.test_client().post(f"{AUTH}/login", json={}), 429)


class AccountLimitTest(ApiTestCase):
    config_overrides = {"RATELIMIT_AUTH": "1000/minute", "RATELIMIT_ACCOUNT": "3/minute;10/hour"}

    def setUp(self) -> None:
        super().setUp()
        self.user = self.make_user()

    def test_failed_logins_from_one_address_on_one_account_are_limited(self) -> None:
        body = {"email": self.user["email"], "password": WRONG}
        for _ in range(3):
            self.assertError(self.client.post(f"{AUTH}/login", json=body, **from_address("10.0.0.1")), 401)
        response = self.client.post(f"{AUTH}/login", json=body, **from_address("10.0.0.1"))
        self.assertError(response, 429)
        self.assertLessEqual(int(response.headers["Retry-After"]), 60)
        # The same email in another case or with spaces is the same account.
        shouted = {"email": f"  {self.user['email'].upper()} ", "password": WRONG}
        self.assertError(self.client.post(f"{AUTH}/login", json=shouted, **from_address("10.0.0.1")), 429)
        # Other accounts are not affected, nor is the owner from another address.
        self.assertEqual(
            self.client.post(
                f"{AUTH}/login",
                json={"email": self.make_user()["email"], "password": PASSWORD},
                **from_address("10.0.0.1"),
            ).status_code,
            200,
        )
        owner = {"email": self.user["email"], "password": PASSWORD}
        self.assertEqual(self.client.post(f"{AUTH}/login", json=owner, **from_address("10.0.0.2")).status_code, 200)

    def test_failures_from_many_addresses_do_not_lock_the_owner_out(self) -> None:
        wrong = {"email": self.user["email"], "password": WRONG}
        for n in range(12):  # over the 10/hour of the per-(account, address) layer, spread over addresses
            self.assertError(self.client.post(f"{AUTH}/login", json=wrong, **from_address(f"10.0.1.{n}")), 401)
        owner = {"email": self.user["email"], "password": PASSWORD}
        self.assertEqual(self.client.post(f"{AUTH}/login", json=owner, **from_address("10.0.2.1")).status_code, 200)

    def test_successful_logins_do_not_count(self) -> None:
        for _ in range(5):
            self.login(self.user)

    def test_wrong_current_passwords_are_limited_per_account(self) -> None:
        headers = {"Authorization": f"Bearer {self.login(self.user)['access_token']}"}
        attempts = [
            ("patch", {"password": "new password 1", "current_password": WRONG}),
            ("delete", {"current_password": WRONG}),
            ("patch", {"password": "new password 1", "current_password": WRONG}),
        ]
        for n, (method, body) in enumerate(attempts):
            response = getattr(self.client, method)(ME, json=body, headers=headers, **from_address(f"10.1.0.{n}"))
            self.assertError(response, 403, "wrong_password")
        body = {"password": "new password 1", "current_password": PASSWORD}
        self.assertError(self.client.patch(ME, json=body, headers=headers, **from_address("10.1.0.9")), 429)


class AccountWideLimitTest(ApiTestCase):
    config_overrides = {
        "RATELIMIT_AUTH": "1000/minute",
        "RATELIMIT_ACCOUNT": "3/minute;10/hour",
        "RATELIMIT_LOGIN_ACCOUNT": "4/minute",
    }

    def test_over_the_account_limit_only_addresses_that_failed_are_refused(self) -> None:
        user = self.make_user()
        wrong = {"email": user["email"], "password": WRONG}
        owner = {"email": user["email"], "password": PASSWORD}
        for n in range(4):
            self.assertError(self.client.post(f"{AUTH}/login", json=wrong, **from_address(f"10.3.0.{n}")), 401)
        # An address that already failed on this account is refused, even with the right password.
        for body in (wrong, owner):
            response = self.client.post(f"{AUTH}/login", json=body, **from_address("10.3.0.0"))
            self.assertError(response, 429)
            self.assertLessEqual(int(response.headers["Retry-After"]), 60)
        # A fresh address gets one guess; that failure makes it one that failed.
        self.assertError(self.client.post(f"{AUTH}/login", json=wrong, **from_address("10.3.1.1")), 401)
        self.assertError(self.client.post(f"{AUTH}/login", json=wrong, **from_address("10.3.1.1")), 429)
        # The owner, from an address that has not failed on the account, is not refused.
        self.assertEqual(self.client.post(f"{AUTH}/login", json=owner, **from_address("10.3.2.1")).status_code, 200)

    def test_the_account_wide_rules_are_checked_at_start(self) -> None:
        with self.assertRaises(ConfigError):
            create_app(
                "testing", {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name, "RATELIMIT_LOGIN_ACCOUNT": "x"}
            )


class GrowingDelayTest(ApiTestCase):
    config_overrides = {"RATELIMIT_AUTH": "1000/minute", "RATELIMIT_ACCOUNT": "2/second;3/hour"}

    def test_delay_grows_with_failures_and_always_ends(self) -> None:
        user = self.make_user()
        wrong = {"email": user["email"], "password": WRONG}
        for _ in range(2):
            self.assertError(self.client.post(f"{AUTH}/login", json=wrong), 401)
        first = self.client.post(f"{AUTH}/login", json=wrong)
        self.assertError(first, 429)
        self.assertEqual(first.headers["Retry-After"], "1")
        time.sleep(1.2)
        self.assertError(self.client.post(f"{AUTH}/login", json=wrong), 401)
        longer = self.client.post(f"{AUTH}/login", json=wrong)
        self.assertError(longer, 429)
        self.assertGreater(int(longer.headers["Retry-After"]), 60)
        self.assertLessEqual(int(longer.headers["Retry-After"]), 3600)


class WindowEndsTest(ApiTestCase):
    config_overrides = {"RATELIMIT_AUTH": "1000/minute", "RATELIMIT_ACCOUNT": "2/second"}

    def test_owner_logs_in_once_the_window_has_passed(self) -> None:
        user = self.make_user()
        for _ in range(2):
            self.client.post(f"{AUTH}/login", json={"email": user["email"], "password": WRONG})
        self.assertError(self.client.post(f"{AUTH}/login", json={"email": user["email"], "password": PASSWORD}), 429)
        time.sleep(1.2)
        self.login(user)


class LimitSettingsTest(ApiTestCase):
    def test_invalid_rules_are_a_config_error(self) -> None:
        for setting in ("RATELIMIT_AUTH", "RATELIMIT_ACCOUNT"):
            with self.subTest(setting=setting), self.assertRaises(ConfigError):
                create_app("testing", {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name, setting: "lots"})


class ApplicationWideLimitTest(ApiTestCase):
    """Views without limits skip Flask-Limiter's per-request pass, unless a team adds application-wide limits."""

    def test_views_without_limits_are_never_counted(self) -> None:
        before = self.db.rate_limit_windows.count_documents({})
        for _ in range(5):
            self.assertEqual(self.client.get("/api/v1/sample/add?a=1&b=2").status_code, 200)
        self.assertEqual(self.db.rate_limit_windows.count_documents({}), before)

    def test_a_default_limit_set_by_a_team_still_applies_to_every_view(self) -> None:
        app = create_app(
            "testing", {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name, "RATELIMIT_DEFAULT": "2/minute"}
        )
        client = app.test_client()
        for _ in range(2):
            self.assertEqual(client.get("/api/v1/sample/add?a=1&b=2").status_code, 200)
        self.assertError(client.get("/api/v1/sample/add?a=1&b=2"), 429, "too_many_requests")
