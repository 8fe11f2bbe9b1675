"""`make bench` measures what it says: the project answers every benchmarked request with a success."""

from __future__ import annotations

import re
import subprocess
import sys
import unittest
from pathlib import Path

from tests.base import uses_subprocesses

ROOT = Path(__file__).resolve().parents[2]


@uses_subprocesses
class BenchRunTest(unittest.TestCase):
    def test_a_short_run_of_the_project_answers_every_request_and_prints_the_table(self) -> None:
        # The production app behind gunicorn, on the database the bench prepares (db-init and migrations):
        # a database it considered out of date would answer 503s, and the figures would measure those.
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.run",
                "--apps",
                "project",
                "--rounds",
                "1",
                "--seconds",
                "1",
                "--loadgen",
                "python",
                "--connections",
                "2",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        self.assertEqual(run.returncode, 0, run.stdout[-3000:] + run.stderr[-3000:])
        self.assertNotIn("INVALID RUN", run.stdout)
        for endpoint in ("GET /api/v1/sample/add", "GET /api/v1/posts/<id>", "POST /api/v1/posts"):
            self.assertIn(endpoint, run.stdout)
        rows = [
            line.split()
            for line in run.stdout.splitlines()
            if re.fullmatch(r"  project +\d+ +[\d.]+ +[\d.]+ +\d+ +\d+ +\d+", line)
        ]
        self.assertEqual(len(rows), 3, run.stdout)
        for row in rows:
            self.assertGreater(float(row[1]), 0, run.stdout)  # req/s
            self.assertEqual(row[-1], "0", run.stdout)  # errors
        # The database's CPU beside the app's: the create's round trips cost it something, measurably.
        self.assertGreater(int(rows[2][-2]), 0, run.stdout)
        self.assertIn("worker RSS after load", run.stdout)


if __name__ == "__main__":
    unittest.main()
