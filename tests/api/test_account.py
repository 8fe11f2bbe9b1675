"""The account mail endpoints without a worker: what they queue, and every way their input can be wrong."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.api.account import RESET_ACCEPTED
from controller.account_token import issue_token
from controller.mail import MailSettings, send_password_reset
from model.mongodb import User
from tests.base import ApiTestCase
from tests.utils.factories import PASSWORD, random_email


class AccountEndpointsTest(ApiTestCase):
    def post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return self.client.post(f"/api/v1{path}", json=body, headers=headers)

    def queued(self, job: str) -> int:
        return sum(job in message["payload"] for message in self.db.celery_messages.find())

    def tearDown(self) -> None:
        self.app.extensions["jobs"].close()

    def test_request_password_reset_queues_a_job_not_a_mail(self) -> None:
        response = self.post("/auth/password-reset", {"email": random_email()})
        self.assertEqual(response.status_code, 202)
        self.assertEqual(response.get_json()["status"], "accepted")
        self.assertEqual(self.queued("mail.password_reset"), 1)

    def test_request_password_reset_with_invalid_email_is_400(self) -> None:
        self.assertError(self.post("/auth/password-reset", {"email": "not-an-address"}), 400)
        self.assertError(self.post("/auth/password-reset", {}), 400)
        self.assertEqual(self.queued("mail.password_reset"), 0)

    def test_confirm_password_reset_with_forged_token_is_400(self) -> None:
        body = {"token": "forged-token", "password": "a brand new password"}
        self.assertError(self.post("/auth/password-reset/confirm", body), 400, "invalid_or_expired_token")

    def test_confirm_password_reset_with_expired_token_is_400(self) -> None:
        user = self.make_user()
        token = issue_token(
            self.db, purpose="password_reset", user_id=user["_id"], email=user["email"], ttl=timedelta(seconds=-1)
        )
        body = {"token": token, "password": "a brand new password"}
        self.assertError(self.post("/auth/password-reset/confirm", body), 400, "invalid_or_expired_token")

    def test_confirm_password_reset_with_weak_password_keeps_token(self) -> None:
        user = self.make_user()
        token = issue_token(
            self.db, purpose="password_reset", user_id=user["_id"], email=user["email"], ttl=timedelta(hours=1)
        )
        self.assertError(self.post("/auth/password-reset/confirm", {"token": token, "password": "short"}), 400)
        good = self.post("/auth/password-reset/confirm", {"token": token, "password": "a brand new password"})
        self.assertEqual(good.status_code, 204)
        self.assertEqual(self.queued("mail.password_changed"), 1)

    def test_tokens_are_stored_only_as_hashes(self) -> None:
        user = self.make_user()
        token = issue_token(
            self.db, purpose="verify_email", user_id=user["_id"], email=user["email"], ttl=timedelta(hours=1)
        )
        stored = self.db.account_tokens.find_one({"user_id": user["_id"]})
        self.assertNotEqual(stored["_id"], token)
        self.assertNotIn(token, str(stored))

    def test_signup_queues_verification_and_user_starts_unverified(self) -> None:
        body = {"email": random_email(), "password": PASSWORD, "name": "New"}
        response = self.post("/auth/signup", body)
        self.assertEqual(response.status_code, 201)
        self.assertFalse(response.get_json()["email_verified"])
        self.assertEqual(self.queued("mail.verify_email"), 1)

    def test_resend_verification_needs_login(self) -> None:
        self.assertError(self.post("/auth/verify-email/resend", {}), 401, "missing_token")
        user = self.make_user()
        self.assertEqual(self.post("/auth/verify-email/resend", {}, self.headers_for(user)).status_code, 202)

    def test_change_email_checks_password_and_address(self) -> None:
        user = self.make_user()
        other = self.make_user()
        headers = self.headers_for(user)
        wrong = {"email": random_email(), "current_password": "not the password"}
        self.assertError(self.post("/users/me/email", wrong, headers), 403, "wrong_password")
        taken = {"email": other["email"], "current_password": PASSWORD}
        self.assertError(self.post("/users/me/email", taken, headers), 409, "email_taken")
        same = {"email": user["email"], "current_password": PASSWORD}
        self.assertError(self.post("/users/me/email", same, headers), 400)
        self.assertError(self.post("/users/me/email", {"email": random_email()}, headers), 400)
        self.assertEqual(self.queued("mail.change_email"), 0)

    def test_verify_email_with_other_purpose_token_is_400(self) -> None:
        user = self.make_user()
        token = issue_token(
            self.db, purpose="change_email", user_id=user["_id"], email=random_email(), ttl=timedelta(hours=1)
        )
        self.assertError(self.post("/auth/verify-email", {"token": token}), 400, "invalid_or_expired_token")
        self.assertEqual(self.post("/users/me/email/confirm", {"token": token}).status_code, 204)


class MailRecipientLimitTest(ApiTestCase):
    config_overrides = {"RATELIMIT_MAIL": "1000/minute", "RATELIMIT_MAIL_RECIPIENT": "3/hour"}

    def post(self, path: str, body: dict[str, Any], address: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(f"/api/v1{path}", json=body, headers=headers, environ_base={"REMOTE_ADDR": address})

    def queued(self, job: str) -> int:
        return sum(job in message["payload"] for message in self.db.celery_messages.find())

    def tearDown(self) -> None:
        self.app.extensions["jobs"].close()

    def test_password_reset_mails_per_recipient_are_limited_with_the_same_answer(self) -> None:
        victim = self.make_user()
        answers = []
        with self.assertLogs("app", "WARNING") as logs:
            for n, email in enumerate([victim["email"]] * 4 + [victim["email"].upper(), f" {victim['email']} "]):
                response = self.post("/auth/password-reset", {"email": email}, f"10.5.0.{n}")
                answers.append((response.status_code, response.get_json()))
        self.assertEqual(answers, [(202, RESET_ACCEPTED)] * 6)
        self.assertEqual(self.queued("mail.password_reset"), 3)
        self.assertIn("over its limit", "\n".join(logs.output))
        self.assertNotIn(victim["email"], "\n".join(logs.output))
        # Another recipient is not affected.
        self.post("/auth/password-reset", {"email": random_email()}, "10.5.0.1")
        self.assertEqual(self.queued("mail.password_reset"), 4)

    def test_verification_and_change_mails_share_the_recipient_limit(self) -> None:
        target = random_email()
        owners = [self.make_user() for _ in range(4)]
        for n, owner in enumerate(owners):
            body = {"email": target, "current_password": PASSWORD}
            self.assertEqual(
                self.post("/users/me/email", body, f"10.6.0.{n}", self.headers_for(owner)).status_code, 202
            )
        self.assertEqual(self.queued("mail.change_email"), 3)
        user = self.make_user()
        for n in range(4):
            self.assertEqual(
                self.post("/auth/verify-email/resend", {}, f"10.7.0.{n}", self.headers_for(user)).status_code, 202
            )
        self.assertEqual(self.queued("mail.verify_email"), 3)


class RecordingMailer:
    """A mailer that keeps the messages it is given instead of sending them."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, *, to: str, template: str, context: Any) -> None:
        self.sent.append({"to": to, "template": template, **context})


class ResetTokenAfterPasswordChangeTest(ApiTestCase):
    def tearDown(self) -> None:
        self.app.extensions["jobs"].close()

    def mailed_reset_token(self, email: str, key: str) -> str:
        mailer = RecordingMailer()
        settings = MailSettings("App", "https://front.example", timedelta(hours=1), timedelta(hours=1))
        self.assertTrue(send_password_reset(self.db, mailer, settings, key=key, email=email))
        return parse_qs(urlsplit(mailer.sent[-1]["link"]).query)["token"][0]

    def test_password_change_voids_an_outstanding_reset_token(self) -> None:
        user = self.make_user()
        token = self.mailed_reset_token(user["email"], "job-1")
        body = {"password": "my new password 1", "current_password": PASSWORD}
        self.assertEqual(
            self.client.patch("/api/v1/users/me", json=body, headers=self.headers_for(user)).status_code, 200
        )
        confirm = {"token": token, "password": "attacker password 1"}
        response = self.client.post("/api/v1/auth/password-reset/confirm", json=confirm)
        self.assertError(response, 400, "invalid_or_expired_token")
        self.assertEqual(
            self.client.post(
                "/api/v1/auth/login", json={"email": user["email"], "password": "my new password 1"}
            ).status_code,
            200,
        )

    def test_reset_token_is_bound_to_the_token_version_it_was_issued_under(self) -> None:
        user = self.make_user()
        token = self.mailed_reset_token(user["email"], "job-2")
        User(self.db).end_sessions(user["_id"])  # the version moves on without the token being deleted
        confirm = {"token": token, "password": "attacker password 1"}
        response = self.client.post("/api/v1/auth/password-reset/confirm", json=confirm)
        self.assertError(response, 400, "invalid_or_expired_token")
        fresh = self.mailed_reset_token(user["email"], "job-3")
        ok = self.client.post("/api/v1/auth/password-reset/confirm", json={**confirm, "token": fresh})
        self.assertEqual(ok.status_code, 204)

    def test_a_disabled_account_gets_no_reset_mail_and_its_tokens_stop_working(self) -> None:
        # An outside finding: a disabled account was mailed reset links and could set a password with them.
        user = self.make_user()
        token = self.mailed_reset_token(user["email"], "job-4")  # mailed while the account was active
        User(self.db).set_fields(user["_id"], disabled=True)
        mailer = RecordingMailer()
        settings = MailSettings("App", "https://front.example", timedelta(hours=1), timedelta(hours=1))
        self.assertFalse(send_password_reset(self.db, mailer, settings, key="job-5", email=user["email"]))
        self.assertEqual(mailer.sent, [])
        confirm = {"token": token, "password": "attacker password 1"}
        response = self.client.post("/api/v1/auth/password-reset/confirm", json=confirm)
        self.assertError(response, 400, "invalid_or_expired_token")
        self.assertEqual(User(self.db).get(user["_id"])["password_hash"], user["password_hash"])


class RequireVerifiedEmailTest(ApiTestCase):
    config_overrides = {"REQUIRE_VERIFIED_EMAIL": True}

    def test_login_refuses_unverified_then_accepts_verified(self) -> None:
        user = self.make_user()
        body = {"email": user["email"], "password": PASSWORD}
        self.assertError(self.client.post("/api/v1/auth/login", json=body), 403, "email_not_verified")
        wrong = {"email": user["email"], "password": "not the password"}
        self.assertError(self.client.post("/api/v1/auth/login", json=wrong), 401, "invalid_credentials")
        self.db.users.update_one({"_id": user["_id"]}, {"$set": {"email_verified": True}})
        self.assertEqual(self.client.post("/api/v1/auth/login", json=body).status_code, 200)


class MailRateLimitTest(ApiTestCase):
    config_overrides = {"RATELIMIT_MAIL": "2/minute"}

    def test_mail_endpoints_are_rate_limited(self) -> None:
        statuses = [
            self.client.post("/api/v1/auth/password-reset", json={"email": random_email()}).status_code
            for _ in range(3)
        ]
        self.assertEqual(statuses[:2], [202, 202])
        self.assertEqual(statuses[2], 429)
        self.app.extensions["jobs"].close()
