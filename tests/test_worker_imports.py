"""What a web worker loads: modules only the CLI, the jobs or the README page need stay out of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each costs every worker memory (docs/performance.md) and is imported where it is used.
NOT_IN_WORKERS = ("celery", "kombu", "markdown_it", "email_validator")


class WorkerImportsTest(unittest.TestCase):
    def test_import_manage_production_leaves_out_modules_workers_do_not_need(self) -> None:
        with tempfile.TemporaryDirectory() as metrics_dir:
            env = {
                **os.environ,
                "FLASK_CONFIG": "production",
                "SECRET_KEY": "k" * 64,
                "MONGODB_URI": "mongodb://127.0.0.1:1/imports",  # never contacted: nothing connects at import
                "MAIL_SERVER": "127.0.0.1",
                "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
            }
            script = "import json, sys, manage; print(json.dumps(sorted(sys.modules)))"
            done = subprocess.run(
                [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
            )
        self.assertEqual(done.returncode, 0, done.stderr)
        loaded = {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}
        self.assertIn("flask", loaded)  # the app was really loaded
        self.assertEqual([name for name in NOT_IN_WORKERS if name in loaded], [])
