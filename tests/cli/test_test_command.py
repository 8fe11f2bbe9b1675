"""`flask test` is hermetic: a developer's .env and exported variables change nothing in the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from tests.base import mongo_uri, uses_subprocesses

ROOT = Path(__file__).resolve().parents[2]
# Every value would break a test that read it: production, a dead database, a slow hash, a tiny rate
# limit, an empty secret, noisy logs, and nonsense for the parsed settings.
HOSTILE_ENV = """\
FLASK_CONFIG=production
SECRET_KEY=
MONGODB_URI=mongodb://127.0.0.1:9/nowhere?serverSelectionTimeoutMS=100
MONGODB_DB=production_data
MONGODB_TIMEOUT_MS=soon
MONGODB_WRITE_CONCERN=majorty
PASSWORD_HASH_TIME_COST=12
PASSWORD_HASH_MEMORY_KIB=262144
RATELIMIT_AUTH=1/day
LOG_LEVEL=DEBUG
LOG_REQUESTS=true
DOCS_ENABLED=false
METRICS_ENABLED=false
MAX_CONTENT_LENGTH=10
GUNICORN_WORKERS=nonsense
"""


@uses_subprocesses
class HermeticTestsTest(unittest.TestCase):
    def test_flask_test_passes_under_a_hostile_env_file_and_exports(self) -> None:
        workdir = Path(tempfile.mkdtemp(prefix="hostile-"))
        self.addCleanup(shutil.rmtree, workdir, True)
        (workdir / ".env").write_text(HOSTILE_ENV)  # the flask command loads .env from where it runs
        env = {key: value for key, value in os.environ.items() if key != "FLASK_SKIP_DOTENV"}
        env.update(
            PYTHONPATH=str(ROOT),
            FLASK_APP="manage:application",
            TEST_MONGODB_URI=mongo_uri(),  # the one variable tests read on purpose
            ACCESS_TOKEN_TTL_S="-1",  # exported, not only in .env
            REQUEST_LOG_TO_DB="true",
        )
        flask = Path(sys.executable).with_name("flask")
        modules = ["tests.api.test_auth", "tests.site.test_ops", "tests.http.test_openapi"]
        result = subprocess.run(
            [str(flask), "test", *modules], cwd=workdir, env=env, capture_output=True, text=True, timeout=300
        )
        output = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, output[-3000:])
        self.assertRegex(result.stdout.strip().splitlines()[-1], r"^[1-9]\d* passed, 0 failed$")
        self.assertNotIn('"level":"DEBUG"', output)  # the hostile LOG_LEVEL never reached the tests
