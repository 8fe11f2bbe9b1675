"""`flask worker` in development follows the embedded server when it is restarted on another port."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from app import create_app
from app.http.routing import ApiFlask
from dev import embedded_mongo
from tests.base import uses_subprocesses
from tests.utils.servers import kill_servers_under, start_group, stop_group
from tests.utils.smtp import MailCatcher

ROOT = Path(__file__).resolve().parents[2]
# The worker, with its instance folder (and so its embedded server) in the test's scratch directory.
WORKER_SCRIPT = """
import sys
from unittest import mock
from app.http.routing import ApiFlask
from flask.cli import main
with mock.patch.object(ApiFlask, "auto_find_instance_path", return_value=sys.argv[1]):
    sys.argv = ["flask", "worker", "--loglevel=WARNING"]
    main()
"""


@uses_subprocesses
class DevelopmentWorkerTest(unittest.TestCase):
    def setUp(self) -> None:
        scratch = Path(tempfile.mkdtemp(prefix="worker-"))
        self.instance = scratch / "instance"
        self.instance.mkdir()
        self.addCleanup(kill_servers_under, scratch)
        self.addCleanup(shutil.rmtree, scratch, True)  # first: nothing can restart a server there then
        self.smtp = MailCatcher().start()
        self.addCleanup(self.smtp.stop)
        settings = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.smtp.port, "CELERY_POLL_INTERVAL_S": 0.05}
        script = scratch / "worker.py"
        script.write_text(WORKER_SCRIPT)
        env = {name: str(value) for name, value in settings.items()} | {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
        }
        env |= {"FLASK_CONFIG": "development", "FLASK_SKIP_DOTENV": "1", "FLASK_APP": "manage", "HOME": str(scratch)}
        self.worker = start_group([sys.executable, str(script), str(self.instance)], env)
        self.addCleanup(stop_group, self.worker)
        found = mock.patch.object(ApiFlask, "auto_find_instance_path", return_value=str(self.instance))
        with found, contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            self.app = create_app("development", settings)
        self.addCleanup(self.app.extensions["jobs"].close)
        self.client = self.app.test_client()

    def sign_up(self) -> str:
        """Sign up a fresh address (which queues its verification mail); return the address."""
        email = f"ada-{secrets.token_hex(4)}@example.com"
        body = {"email": email, "password": "correct horse battery", "name": "Ada"}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            response = self.client.post("/api/v1/auth/signup", json=body)
        self.assertEqual(response.status_code, 201, response.get_data(as_text=True))
        return email

    def test_worker_follows_the_embedded_server_to_its_new_port(self) -> None:
        self.smtp.wait_for(self.sign_up(), timeout=60)
        before = embedded_mongo.dev_server_status(self.instance)
        self.assertTrue(embedded_mongo.stop_dev_server(self.instance))  # `flask db-server stop`

        email = self.sign_up()  # the app starts the server again, on another port, and queues there
        after = embedded_mongo.dev_server_status(self.instance)
        self.assertIsNotNone(before)
        self.assertIsNotNone(after)
        self.assertNotEqual((before or {}).get("port"), (after or {}).get("port"))
        self.smtp.wait_for(email, timeout=60)  # the worker moved to the new server and sent it
        self.assertIsNone(self.worker.poll(), "the worker restarted in place, it did not exit")


if __name__ == "__main__":
    unittest.main()
