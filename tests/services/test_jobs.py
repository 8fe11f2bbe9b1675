"""The account mail flows end to end: the API queues, a real worker process sends, a real SMTP server receives.

One worker (`flask worker`, a subprocess) per test class, on the class's own database; each test uses
fresh addresses. The worker's visibility timeout is short so that the kill test sees a redelivery soon.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import unittest
from typing import Any, ClassVar

from app import create_app
from model.mongodb import JobStat, init_db
from tests.base import ApiTestCase, mongo_client, mongo_uri, uses_subprocesses
from tests.utils.factories import PASSWORD, random_email
from tests.utils.openapi import ConformingClient
from tests.utils.servers import start_group, stop_group
from tests.utils.smtp import MailCatcher, text_part, token_in

VISIBILITY_TIMEOUT_S = 3


@uses_subprocesses
class WorkerTestCase(ApiTestCase):
    """Start a mail catcher and a worker for the class; tests share its database."""

    smtp: ClassVar[MailCatcher]
    db_name: ClassVar[str]
    worker: ClassVar[subprocess.Popen[bytes]]

    @classmethod
    def setUpClass(cls) -> None:
        cls.smtp = MailCatcher().start()
        cls.addClassCleanup(cls.smtp.stop)
        cls.db_name = f"test_{secrets.token_hex(6)}"
        init_db(mongo_client()[cls.db_name])
        cls.addClassCleanup(mongo_client().drop_database, cls.db_name)
        cls.settings = {
            "MONGODB_URI": mongo_uri(),
            "MONGODB_DB": cls.db_name,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": cls.smtp.port,
            "CELERY_VISIBILITY_TIMEOUT_S": VISIBILITY_TIMEOUT_S,
            "CELERY_POLL_INTERVAL_S": 0.05,
        }
        cls.start_worker()

    @classmethod
    def start_worker(cls) -> None:
        env = {
            **os.environ,
            **{name: str(value) for name, value in cls.settings.items()},
            "FLASK_CONFIG": "testing",
            "FLASK_TEST_SETTINGS": "env",  # the testing config reads these settings, which this test chose
            "FLASK_SKIP_DOTENV": "1",
            "TEST_MONGODB_URI": mongo_uri(),
            "WORKER_CONCURRENCY": "1",
            "LOG_LEVEL": "WARNING",
        }
        cls.worker = start_group([sys.executable, "-m", "flask", "worker", "--loglevel=WARNING"], env)
        cls.addClassCleanup(stop_group, cls.worker)

    def setUp(self) -> None:
        self.db = mongo_client()[self.db_name]
        self.app = create_app("testing", self.settings)
        self.app.test_client_class = ConformingClient
        self.client = self.app.test_client()
        self.auth = self.app.extensions["auth"]
        self.addCleanup(self.app.extensions["jobs"].close)

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return self.client.post(f"/api/v1{path}", json=body, headers=headers)


class AccountMailFlowTest(WorkerTestCase):
    def test_password_reset_mails_single_use_token_and_ends_sessions(self) -> None:
        user = self.make_user()
        old_tokens = self.login(user)
        started = time.monotonic()
        response = self.post("/auth/password-reset", {"email": user["email"].upper()})
        self.assertEqual(response.status_code, 202)
        (mail,) = self.smtp.wait_for(user["email"])
        latency = time.monotonic() - started
        self.assertLess(latency, 60)
        self.assertIn("Reset your", mail["Subject"])
        self.assertIsNotNone(mail.get_body(preferencelist=("html",)))
        token = token_in(mail)
        self.assertTrue(text_part(mail).count("http://localhost:5000/reset-password?token="))

        response = self.post("/auth/password-reset/confirm", {"token": token, "password": "a brand new password"})
        self.assertEqual(response.status_code, 204, response.get_data(as_text=True))
        headers = {"Authorization": f"Bearer {old_tokens['access_token']}"}
        self.assertError(self.client.get("/api/v1/users/me", headers=headers), 401, "token_revoked")
        self.assertEqual(self.login(user, "a brand new password")["token_type"], "Bearer")
        notice = self.smtp.wait_for(user["email"], count=2)[1]
        self.assertIn("password was changed", notice["Subject"])
        again = self.post("/auth/password-reset/confirm", {"token": token, "password": "another new password"})
        self.assertError(again, 400, "invalid_or_expired_token")

    def test_password_reset_answers_the_same_for_unknown_address_and_mails_nothing(self) -> None:
        user = self.make_user()
        unknown = random_email()
        first = self.post("/auth/password-reset", {"email": unknown})
        second = self.post("/auth/password-reset", {"email": user["email"]})
        self.assertEqual((first.status_code, first.get_json()), (second.status_code, second.get_json()))
        self.smtp.wait_for(user["email"])  # one worker, in order: the unknown address's job ran before
        self.assertEqual(self.smtp.to(unknown), [])

    def test_signup_mails_verification_that_verifies_once(self) -> None:
        email = random_email()
        body = {"email": email, "password": PASSWORD, "name": "Verifier"}
        self.assertEqual(self.post("/auth/signup", body).status_code, 201)
        token = token_in(self.smtp.wait_for(email)[0])
        wrong_purpose = self.post("/auth/password-reset/confirm", {"token": token, "password": "whatever password"})
        self.assertError(wrong_purpose, 400, "invalid_or_expired_token")
        self.assertEqual(self.post("/auth/verify-email", {"token": token}).status_code, 204)
        user = self.db.users.find_one({"email": email})
        me = self.client.get("/api/v1/users/me", headers=self.headers_for(user)).get_json()
        self.assertTrue(me["email_verified"])
        self.assertError(self.post("/auth/verify-email", {"token": token}), 400, "invalid_or_expired_token")
        resend = self.post("/auth/verify-email/resend", {}, headers=self.headers_for(user))
        self.assertError(resend, 409, "email_already_verified")

    def test_change_email_confirms_at_new_address_and_notifies_old(self) -> None:
        user = self.make_user()
        new = random_email()
        body = {"email": new, "current_password": PASSWORD}
        self.assertEqual(self.post("/users/me/email", body, self.headers_for(user)).status_code, 202)
        token = token_in(self.smtp.wait_for(new)[0])
        notice = self.smtp.wait_for(user["email"])[0]
        self.assertIn(new, text_part(notice))
        self.assertEqual(self.db.users.find_one({"_id": user["_id"]})["email"], user["email"])  # not yet
        self.assertEqual(self.post("/users/me/email/confirm", {"token": token}).status_code, 204)
        self.assertEqual(self.login({**user, "email": new})["token_type"], "Bearer")

    def test_change_email_to_address_taken_meanwhile_is_conflict(self) -> None:
        user = self.make_user()
        new = random_email()
        self.post("/users/me/email", {"email": new, "current_password": PASSWORD}, self.headers_for(user))
        token = token_in(self.smtp.wait_for(new)[0])
        self.make_user(email=new)
        self.assertError(self.post("/users/me/email/confirm", {"token": token}), 409, "email_taken")

    def test_jobs_are_counted_in_metrics(self) -> None:
        user = self.make_user()
        self.post("/auth/password-reset", {"email": user["email"]})
        self.smtp.wait_for(user["email"])
        deadline = time.monotonic() + 10
        while not JobStat(self.db).all() and time.monotonic() < deadline:
            time.sleep(0.05)
        body = self.client.get("/metrics").get_data(as_text=True)
        self.assertIn('jobs_finished_total{job="mail.password_reset",outcome="succeeded"}', body)
        self.assertIn('jobs_queued_total{job="mail.password_reset"}', body)


class WorkerKilledTest(WorkerTestCase):
    def test_mail_queued_or_in_flight_survives_worker_killed_with_sigkill(self) -> None:
        users = [self.make_user() for _ in range(4)]
        self.smtp.delay = 1.0  # the first job is mid-delivery when the worker dies
        for user in users:
            self.assertEqual(self.post("/auth/password-reset", {"email": user["email"]}).status_code, 202)
        deadline = time.monotonic() + 30
        while not self.db.celery_messages.find_one({"invisible_until": {"$ne": None}}):
            self.assertLess(time.monotonic(), deadline, "the worker never claimed a job")
            time.sleep(0.02)
        stop_group(self.worker, signal.SIGKILL)
        self.smtp.delay = 0
        self.start_worker()
        for user in users:
            self.smtp.wait_for(user["email"], timeout=60)
        deadline = time.monotonic() + 10
        while self.db.celery_messages.count_documents({}) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.db.celery_messages.count_documents({}), 0)


if __name__ == "__main__":
    unittest.main()
