"""The README's examples run, in order, against a live server, and answer what the README shows.

How to write a README example that this test runs (the convention):

- A fenced ```shell block that mentions `http://127.0.0.1:5000` (directly or through `$API`) is a
  walk-through block. Every walk-through block of the README runs, in README order, in ONE bash session,
  so variables set in one block (`API`, `ACCESS`, ...) are there in the next. Keep commands that need a
  terminal or do not talk to the API (`flask create-admin`, `make run`) out of these blocks.
- `http://127.0.0.1:5000` is replaced by the address of a server this test starts (the app in the testing
  configuration, on a fresh database initialised as `make run` would), beside a `flask worker` process, as
  `make run` starts one. Commands run in a scratch directory where `instance/mail/` is the outbox the app
  and the worker write mails to, as in development.
- A command is a line, or several joined by a trailing backslash. `curl` is wrapped so that each command's
  last HTTP status and response body are recorded; pipes and `$(...)` work as usual.
- What a command answers is shown on the comment line right after it: `# => STATUS` and optionally the key
  fields, as JSON: `# => 201 {"status": "draft", "tags": ["intro"]}`. The status must be equal; every key
  shown must be in the body with an equal value (objects compare by their shown keys, lists by their first
  items, and `"..."` stands for any value). Other comments are prose and are not checked.
- In prompt style, `$ command` followed by lines of output (as in the quick start), those lines are what
  the command prints: JSON compares as above, other text must appear in the output.
- A command that fails to produce its shown answer fails the test, which names the README line.

Another walk-through (account recovery, mail, jobs, ...) needs nothing more than a block that follows this
convention; a setting its server needs goes in `SETTINGS` below.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import create_app
from controller.schema import upgrade
from tests.base import DatabaseTestCase, mongo_uri, uses_subprocesses
from tests.utils.live_server import live_server

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCUMENTED_BASE = "http://127.0.0.1:5000"
_FENCE = re.compile(r"^```shell\n(.*?)^```", re.MULTILINE | re.DOTALL)
_SHOWN = re.compile(r"^# => (\d{3})(?:\s+(.*))?$")
ANY = "..."
# Settings of the server and the worker, besides the database: mails go to the scratch directory.
SETTINGS = {"CELERY_POLL_INTERVAL_S": 0.05, "WORKER_CONCURRENCY": 1, "LOG_LEVEL": "ERROR"}
# Per-step files: the curl wrapper records the headers and body of each command's requests.
PRELUDE = r"""
set -u
curl() { command curl -sS -D "$STEPS/$STEP.headers" "$@" | tee "$STEPS/$STEP.body"; }
"""


@dataclass
class Step:
    """One README command, where it is, and what the README says it answers."""

    line: int
    command: str
    status: int | None = None
    shown: Any = None  # JSON the answer must contain
    printed: list[str] = field(default_factory=list)  # prompt style: lines the command prints


def walkthrough_steps(text: str) -> list[Step]:
    """Return the commands of the README's walk-through blocks, in order, with what each shows."""
    steps: list[Step] = []
    for block in _FENCE.finditer(text):
        body = block.group(1)
        if DOCUMENTED_BASE not in body and "$API" not in body:
            continue
        first_line = text[: block.start(1)].count("\n") + 1
        lines = body.splitlines()
        prompt_style = any(line.startswith("$ ") for line in lines)
        index = 0
        while index < len(lines):
            line, number = lines[index], first_line + index
            index += 1
            if prompt_style and not line.startswith("$ "):
                if steps and line.strip():
                    steps[-1].printed.append(line)
                continue
            shown = _SHOWN.match(line.strip())
            if shown and steps:
                steps[-1].status = int(shown.group(1))
                steps[-1].shown = json.loads(shown.group(2)) if shown.group(2) else None
                continue
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            command = line[2:] if prompt_style else line
            while command.endswith("\\") and index < len(lines):
                command = command[:-1] + " " + lines[index].strip()
                index += 1
            steps.append(Step(number, command))
    return steps


def contains(actual: Any, shown: Any) -> bool:
    """Tell whether `actual` has everything `shown` shows (see the module docstring)."""
    if shown == ANY:
        return True
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(key in actual and contains(actual[key], shown[key]) for key in shown)
    if isinstance(shown, list):
        return (
            isinstance(actual, list)
            and len(actual) >= len(shown)
            and all(contains(item, want) for item, want in zip(actual, shown, strict=False))
        )
    return bool(actual == shown)


@uses_subprocesses
class ReadmeWalkthroughTest(DatabaseTestCase):
    def test_readme_walkthroughs_answer_what_they_show(self) -> None:
        steps = walkthrough_steps(README.read_text(encoding="utf-8"))
        self.assertGreaterEqual(len(steps), 15)  # the quick start, the auth and the posts walk-throughs
        self.assertTrue(any("/auth/logout" in step.command and step.status == 204 for step in steps))
        self.assertTrue(any("cursor=" in step.command for step in steps))
        upgrade(self.db)  # what `make run` does before serving
        workdir = Path(tempfile.mkdtemp(prefix="readme-"))
        self.addCleanup(shutil.rmtree, workdir, True)
        settings = {**SETTINGS, "MONGODB_DB": self.db.name, "MAIL_OUTBOX_DIR": str(workdir / "instance" / "mail")}
        self.start_worker(settings)
        app = create_app("testing", {"MONGODB_URI": mongo_uri(), **settings})
        self.addCleanup(app.extensions["jobs"].close)
        with live_server(app) as base:
            outputs = self.run_steps(steps, base, workdir)
        for number, step in enumerate(steps):
            with self.subTest(line=step.line, command=step.command[:80]):
                self.check(step, outputs.get(number, ""), workdir / "steps" / str(number))

    def start_worker(self, settings: dict[str, object]) -> None:
        """Start `flask worker` on the test's database, as `make run` does beside the web server."""
        env = {
            **os.environ,
            **{name: str(value) for name, value in settings.items()},
            "FLASK_CONFIG": "testing",
            "FLASK_TEST_SETTINGS": "env",
            "TEST_MONGODB_URI": mongo_uri(),
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "worker", "--loglevel=WARNING"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def stop() -> None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(10)

        self.addCleanup(stop)

    def run_steps(self, steps: list[Step], base: str, workdir: Path) -> dict[int, str]:
        """Run every step in one bash session; return what each printed."""
        (workdir / "steps").mkdir()
        script = [PRELUDE, f"STEPS={workdir / 'steps'}"]
        for number, step in enumerate(steps):
            script += [f"STEP={number}", f"echo '@@step {number}'", step.command.replace(DOCUMENTED_BASE, base)]
        bash = shutil.which("bash") or "/bin/bash"
        result = subprocess.run(
            [bash, "-c", "\n".join(script) + "\n"], cwd=workdir, capture_output=True, text=True, timeout=120
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        outputs: dict[int, str] = {}
        for chunk in result.stdout.split("@@step ")[1:]:
            number, _, printed = chunk.partition("\n")
            outputs[int(number)] = printed
        return outputs

    def check(self, step: Step, printed: str, files: Path) -> None:
        """Compare one step's answer with what the README shows for it."""
        where = f"README.md line {step.line}: {step.command}"
        if step.status is not None:
            headers = files.with_suffix(".headers")
            statuses = re.findall(r"^HTTP/[\d.]+ (\d{3})", headers.read_text() if headers.exists() else "", re.M)
            self.assertEqual(int(statuses[-1]) if statuses else None, step.status, where)
        if step.shown is not None:
            body = files.with_suffix(".body").read_text()
            self.assertTrue(contains(json.loads(body), step.shown), f"{where}\nanswered: {body}")
        if step.printed:
            expected = "\n".join(step.printed)
            try:
                self.assertTrue(contains(json.loads(printed), json.loads(expected)), f"{where}\n{printed}")
            except json.JSONDecodeError:
                self.assertIn(expected, printed, where)


class ConventionTest(unittest.TestCase):
    def test_steps_read_commands_continuations_and_shown_answers(self) -> None:
        text = "\n".join(
            [
                "```shell",
                "API=http://127.0.0.1:5000/api/v1",
                "curl -s $API/a \\",
                "     -d '{}'",
                '# => 201 {"id": "...", "tags": ["a"]}',
                "# prose",
                "```",
                "```shell",
                "make run",
                "```",
            ]
        )
        steps = walkthrough_steps(text)
        self.assertEqual(
            [step.command for step in steps], ["API=http://127.0.0.1:5000/api/v1", "curl -s $API/a  -d '{}'"]
        )
        self.assertEqual((steps[1].line, steps[1].status, steps[1].shown), (3, 201, {"id": "...", "tags": ["a"]}))

    def test_contains_compares_shown_keys_and_first_items(self) -> None:
        self.assertTrue(contains({"a": 1, "b": [{"c": 2, "d": 3}, {}]}, {"b": [{"c": 2}]}))
        self.assertTrue(contains({"id": "x"}, {"id": ANY}))
        self.assertFalse(contains({"a": 1}, {"a": 2}))
        self.assertFalse(contains({"items": []}, {"items": [{"a": 1}]}))
        self.assertFalse(contains({"next_cursor": "x"}, {"next_cursor": None}))
