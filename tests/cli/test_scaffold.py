"""`flask scaffold`: for any valid name, the generated resource lints, type-checks, initialises, documents
itself and passes its own tests.

Every name of the table is generated into ONE copy of the project, then ruff, mypy, db-init and the
generated tests run once over all of them, which keeps the cost of this check bounded in CI.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from app.cli import scaffold
from tests.base import mongo_client, mongo_uri, uses_subprocesses
from tests.utils.servers import kill_servers_under

ROOT = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "venv", "instance", "__pycache__", ".*_cache", ".coverage*", "htmlcov", ".env"
)
# (plural, --singular, singular, the article and label the generated prose must use)
NAMES = [
    ("ads", None, "ad", "an ad"),  # short, starts with a vowel
    ("invoices", None, "invoice", "an invoice"),  # the README's example, vowel
    ("orders", None, "order", "an order"),
    ("categories", None, "category", "a category"),  # -ies plural
    ("boxes", None, "box", "a box"),  # -es plural
    ("people", "person", "person", "a person"),  # irregular
    ("line_items", None, "line_item", "a line item"),  # snake_case, several words
    (
        "warehouse_inventory_adjustment_items",
        None,
        "warehouse_inventory_adjustment_item",
        "a warehouse inventory adjustment item",
    ),  # long
]


def uri_with_database(uri: str, name: str) -> str:
    """Return `uri` naming database `name` (the testing config reads only TEST_MONGODB_URI)."""
    head, _, options = uri.partition("?")
    return f"{head.rstrip('/')}/{name}" + (f"?{options}" if options else "")


class ScaffoldNamesTest(unittest.TestCase):
    def test_names_are_derived_from_the_plural(self) -> None:
        names = scaffold.Names.parse("line_items")
        self.assertEqual((names.singular, names.class_name, names.label), ("line_item", "LineItem", "line item"))
        self.assertEqual((names.plural_label, names.article), ("line items", "a"))
        for plural, singular, expected, _ in NAMES:
            with self.subTest(plural=plural):
                self.assertEqual(scaffold.Names.parse(plural, singular).singular, expected)

    def test_article_follows_the_first_sound(self) -> None:
        for label, article in (("invoice", "an"), ("order", "an"), ("box", "a"), ("user", "a"), ("hour", "an")):
            with self.subTest(label=label):
                self.assertEqual(scaffold.article_for(label), article)

    def test_unusable_names_are_refused(self) -> None:
        for name in ("Invoices", "bad-name", "2fast", "class", "_private", "a__b", "x", "invoices_", "w" * 41 + "s"):
            with self.subTest(name=name), self.assertRaises(scaffold.ScaffoldError):
                scaffold.Names.parse(name)
        for name in ("people", "data", "status"):  # no regular singular, or the same word
            with self.subTest(name=name), self.assertRaises(scaffold.ScaffoldError):
                scaffold.Names.parse(name, None if name != "people" else "people")


@uses_subprocesses
class ScaffoldGenerationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.root = Path(tempfile.mkdtemp(prefix="scaffold-")) / "project"
        shutil.copytree(ROOT, cls.root, ignore=IGNORED)
        cls.written = {plural: scaffold.generate(cls.root, plural, singular) for plural, singular, _, _ in NAMES}

    @classmethod
    def tearDownClass(cls) -> None:
        kill_servers_under(cls.root.parent)
        shutil.rmtree(cls.root.parent, ignore_errors=True)

    def run_in_copy(self, *args: str, database: str | None = None) -> subprocess.CompletedProcess[str]:
        uri = mongo_uri() if database is None else uri_with_database(mongo_uri(), database)
        return subprocess.run(
            [sys.executable, *args],
            cwd=self.root,
            # MONGODB_URI too: development commands (db-init) use the test server, not an embedded one
            # started in the copy, which would outlive the test.
            env={
                "PATH": "/usr/bin:/bin",
                "FLASK_APP": "manage:application",
                "TEST_MONGODB_URI": uri,
                "MONGODB_URI": uri,
            },
            capture_output=True,
            text=True,
            timeout=600,
        )

    def test_every_layer_is_written_and_registered(self) -> None:
        models = (self.root / "model/mongodb/__init__.py").read_text()
        resources = (self.root / "app/api/__init__.py").read_text()
        for plural, singular, expected, _ in NAMES:
            with self.subTest(plural=plural):
                names = scaffold.Names.parse(plural, singular)
                self.assertEqual(len(self.written[plural]), 8)
                for template, target in scaffold.OUTPUTS.items():
                    self.assertTrue((self.root / target.format(plural=plural, singular=expected)).exists(), template)
                self.assertIn(f"from model.mongodb.{expected} import {names.class_name}\n", models)
                self.assertIn(f'    "{names.class_name}",\n', models)  # exported, as the other models are
                self.assertIn(f"    {names.class_name},\n", models.split("MODELS")[1])  # set up by db-init
                self.assertIn(f"    {plural},\n", resources)

    def test_generated_text_uses_the_right_article_and_plural(self) -> None:
        for plural, _, expected, phrase in NAMES:
            with self.subTest(plural=plural):
                text = (self.root / f"controller/{expected}.py").read_text()
                self.assertIn(f"Create {phrase}", text)
                self.assertIn(f"of the caller's {plural.replace('_', ' ')}", text)
        self.assertNotRegex((self.root / "controller/invoice.py").read_text(), r"\ba invoice")

    def test_generated_code_passes_ruff_and_mypy_strict(self) -> None:
        tools = Path(sys.executable).parent
        for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
            with self.subTest(command=command[:2]):
                result = subprocess.run(
                    [str(tools / command[0]), *command[1:]], cwd=self.root, capture_output=True, text=True, timeout=300
                )
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_db_init_openapi_and_generated_tests_pass(self) -> None:
        database = f"test_scaffold_{secrets.token_hex(4)}"
        self.addCleanup(mongo_client().drop_database, database)
        init = self.run_in_copy("-m", "flask", "db-init", database=database)
        self.assertEqual(init.returncode, 0, init.stderr)
        spec = self.run_in_copy("-m", "flask", "openapi")
        for plural, _, expected, _ in NAMES:
            with self.subTest(plural=plural):
                self.assertIn(f"created collection {plural}", init.stdout)
                self.assertIn(f'"/api/v1/{plural}/{{{expected}_id}}"', spec.stdout)
        modules = [
            f"tests.{layer}.test_{name}"
            for plural, _, singular, _ in NAMES
            for layer, name in (("api", plural), ("controller", singular), ("model", singular))
        ]
        tests = self.run_in_copy("-m", "tests", *modules)
        self.assertEqual(tests.returncode, 0, tests.stdout[-3000:] + tests.stderr[-3000:])
        self.assertRegex(tests.stdout.strip().splitlines()[-1], rf"^{12 * len(NAMES)} passed, 0 failed$")

    def test_existing_names_are_refused_without_writing(self) -> None:
        before = {path: path.read_text() for path in self.root.rglob("*.py")}
        for name in ("line_items", "posts", "users", "logs", "audits"):
            with self.subTest(name=name), self.assertRaises(scaffold.ScaffoldError):
                scaffold.generate(self.root, name)
        self.assertEqual({path: path.read_text() for path in self.root.rglob("*.py")}, before)
