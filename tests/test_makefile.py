"""The make targets a newcomer types first."""

from __future__ import annotations

import os
import shutil
import subprocess
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def planned(*args: str) -> list[str]:
    """Return the commands `make -n ARGS` would run (nothing is run)."""
    make = shutil.which("make") or "/usr/bin/make"
    # Without the variables of a make that runs this test (`make test`), which would add its own lines.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "MFLAGS"))}
    result = subprocess.run(
        [make, "-n", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return [line.strip() for line in result.stdout.splitlines() if line.strip() and not line.startswith("make")]


class MakeRunTest(unittest.TestCase):
    def test_make_run_applies_db_init_and_migrations_before_serving_on_port_5000(self) -> None:
        commands = [line.split("/flask ", 1)[1] for line in planned("run") if "/flask " in line]
        self.assertEqual(commands[:2], ["db-init", "db-migrate"])
        self.assertEqual(commands[-1].strip(), "run --debug --port 5000")

    def test_make_run_port_serves_on_another_port(self) -> None:
        self.assertTrue(planned("run", "PORT=5001")[-1].endswith("flask run --debug --port 5001"))
