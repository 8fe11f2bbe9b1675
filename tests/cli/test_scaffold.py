"""`flask scaffold`: a generated resource that lints, initialises, documents itself and passes its tests."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from app.cli import scaffold
from tests.base import mongo_client, mongo_uri, uses_subprocesses

ROOT = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "venv", "instance", "__pycache__", ".*_cache", ".coverage*", "htmlcov"
)


class ScaffoldNamesTest(unittest.TestCase):
    def test_names_are_derived_from_the_plural(self) -> None:
        self.assertEqual(
            scaffold.Names.parse("line_items"), scaffold.Names("line_items", "line_item", "LineItem", "line item")
        )
        self.assertEqual(scaffold.Names.parse("categories").singular, "category")
        self.assertEqual(scaffold.Names.parse("people", "person").class_name, "Person")

    def test_unusable_names_are_refused(self) -> None:
        for name in ("Invoices", "bad-name", "2fast", "class", "_private", "a__b", "x", "invoices_"):
            with self.subTest(name=name), self.assertRaises(scaffold.ScaffoldError):
                scaffold.Names.parse(name)
        with self.assertRaises(scaffold.ScaffoldError):
            scaffold.Names.parse("people", "people")


@uses_subprocesses
class ScaffoldGenerationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.root = Path(tempfile.mkdtemp(prefix="scaffold-")) / "project"
        shutil.copytree(ROOT, cls.root, ignore=IGNORED)
        cls.written = scaffold.generate(cls.root, "line_items")

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.root.parent, ignore_errors=True)

    def run_in_copy(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.root,
            env={**os.environ, "TEST_MONGODB_URI": mongo_uri(), **env},
            capture_output=True,
            text=True,
            timeout=300,
        )

    def test_every_layer_is_written_and_registered(self) -> None:
        relative = sorted(str(path.relative_to(self.root)) for path in self.written)
        self.assertEqual(
            relative,
            [
                "app/api/__init__.py",
                "app/api/line_items.py",
                "controller/line_item.py",
                "model/mongodb/__init__.py",
                "model/mongodb/line_item.py",
                "tests/api/test_line_items.py",
                "tests/controller/test_line_item.py",
                "tests/model/test_line_item.py",
            ],
        )
        self.assertIn("    LineItem,\n", (self.root / "model/mongodb/__init__.py").read_text())
        self.assertIn("line_items", (self.root / "app/api/__init__.py").read_text())

    def test_generated_code_passes_lint(self) -> None:
        ruff = Path(sys.executable).with_name("ruff")
        for command in (["check", "."], ["format", "--check", "."]):
            result = subprocess.run([str(ruff), *command], cwd=self.root, capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_db_init_openapi_and_generated_tests_pass(self) -> None:
        db_name = f"test_scaffold_{secrets.token_hex(4)}"
        self.addCleanup(mongo_client().drop_database, db_name)
        flask = {"FLASK_CONFIG": "testing", "MONGODB_DB": db_name}
        init = self.run_in_copy("-m", "flask", "db-init", **flask)
        self.assertEqual(init.returncode, 0, init.stderr)
        self.assertIn("created collection line_items", init.stdout)
        spec = self.run_in_copy("-m", "flask", "openapi", **flask)
        self.assertIn('"/api/v1/line_items/{line_item_id}"', spec.stdout)
        tests = self.run_in_copy(
            "-m", "tests", "tests.api.test_line_items", "tests.controller.test_line_item", "tests.model.test_line_item"
        )
        self.assertEqual(tests.returncode, 0, tests.stdout + tests.stderr)
        self.assertRegex(tests.stdout.strip().splitlines()[-1], r"^1\d passed, 0 failed$")

    def test_existing_names_are_refused_without_writing(self) -> None:
        before = {path: path.read_text() for path in self.root.rglob("*.py")}
        for name in ("line_items", "posts", "users", "logs", "audits"):
            with self.subTest(name=name), self.assertRaises(scaffold.ScaffoldError):
                scaffold.generate(self.root, name)
        self.assertEqual({path: path.read_text() for path in self.root.rglob("*.py")}, before)
