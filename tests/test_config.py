"""Settings: environment overrides, parsing errors and production's refusals."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import unittest
from pathlib import Path
from unittest import mock

from dotenv import dotenv_values
from flask import Flask

from app import create_app
from config import DEV_SECRET_KEY, ConfigError, DevelopmentConfig, ProductionConfig, TestingConfig, get_config
from controller.schema import upgrade
from tests.base import ApiTestCase, mongo_uri, uses_subprocesses

ROOT = Path(__file__).resolve().parents[1]
GOOD_SECRET = "k" * 40


class ConfigLoadTest(unittest.TestCase):
    def test_load_uses_defaults_without_environment(self) -> None:
        settings = DevelopmentConfig.load({})
        self.assertEqual(settings["MONGODB_TIMEOUT_MS"], 2000)
        self.assertIsNone(settings["MONGODB_URI"])
        self.assertTrue(settings["DEBUG"])

    def test_load_parses_environment_to_the_default_type(self) -> None:
        settings = DevelopmentConfig.load({"MONGODB_TIMEOUT_MS": "750", "MONGODB_URI": "mongodb://db"})
        self.assertEqual(settings["MONGODB_TIMEOUT_MS"], 750)
        self.assertEqual(settings["MONGODB_URI"], "mongodb://db")

    def test_load_rejects_unparseable_number_naming_the_variable(self) -> None:
        with self.assertRaisesRegex(ConfigError, "MONGODB_TIMEOUT_MS"):
            DevelopmentConfig.load({"MONGODB_TIMEOUT_MS": "soon"})

    def test_environment_cannot_override_fixed_settings(self) -> None:
        settings = ProductionConfig.load({"DEBUG": "true", "TESTING": "1", "ENV_NAME": "development"})
        self.assertFalse(settings["DEBUG"])
        self.assertEqual(settings["ENV_NAME"], "production")

    def test_testing_reads_settings_only_from_a_test_that_marks_them(self) -> None:
        marked = {"FLASK_TEST_SETTINGS": "env", "MONGODB_DB": "chosen", "TEST_MONGODB_URI": "mongodb://test-db"}
        settings = TestingConfig.load(marked)
        self.assertEqual((settings["MONGODB_DB"], settings["MONGODB_URI"]), ("chosen", "mongodb://test-db"))
        self.assertIsNone(TestingConfig.load({"MONGODB_DB": "chosen"})["MONGODB_DB"])

    def test_testing_reads_test_uri_only(self) -> None:
        settings = TestingConfig.load({"MONGODB_URI": "mongodb://dev-db", "TEST_MONGODB_URI": "mongodb://test-db"})
        self.assertEqual(settings["MONGODB_URI"], "mongodb://test-db")
        self.assertIsNone(TestingConfig.load({"MONGODB_URI": "mongodb://dev-db"})["MONGODB_URI"])

    def test_get_config_defaults_to_development_and_rejects_unknown(self) -> None:
        self.assertIs(get_config(None), DevelopmentConfig)
        with self.assertRaisesRegex(ConfigError, "FLASK_CONFIG"):
            get_config("staging")


class ProductionConfigTest(unittest.TestCase):
    def build(self, **settings: object) -> Flask:
        return create_app(
            "production",
            {"SECRET_KEY": GOOD_SECRET, "MONGODB_URI": "mongodb://db", "MAIL_SERVER": "smtp.test", **settings},
        )

    def test_production_starts_with_real_secret_and_uri(self) -> None:
        app = self.build()
        self.assertEqual(app.config["ENV_NAME"], "production")
        self.assertEqual(app.config["SECRET_KEY"], GOOD_SECRET)
        self.assertEqual(app.config["MONGODB_URI"], "mongodb://db")
        self.assertFalse(app.debug)
        self.assertFalse(app.testing)

    def test_production_refuses_missing_or_placeholder_secret(self) -> None:
        for secret in (None, "", DEV_SECRET_KEY, "change-me", "short-but-not-placeholder"):
            with self.subTest(secret=secret), self.assertRaisesRegex(ConfigError, "SECRET_KEY"):
                self.build(SECRET_KEY=secret)

    def test_production_refuses_missing_mongodb_uri(self) -> None:
        with self.assertRaisesRegex(ConfigError, "MONGODB_URI"):
            self.build(MONGODB_URI=None)

    def test_production_refuses_missing_mail_server(self) -> None:
        with self.assertRaisesRegex(ConfigError, "MAIL_SERVER"):
            self.build(MAIL_SERVER=None)


@uses_subprocesses
class EntryPointTest(unittest.TestCase):
    def run_manage(self, **env: str) -> subprocess.CompletedProcess[str]:
        unset = {"SECRET_KEY", "MONGODB_URI", "MAIL_SERVER"}
        clean = {key: value for key, value in os.environ.items() if key not in unset}
        return subprocess.run(
            [sys.executable, "-c", "import manage"],
            cwd=ROOT,
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    def test_import_manage_in_production_without_settings_exits_with_one_line_per_problem(self) -> None:
        result = self.run_manage(FLASK_CONFIG="production")
        self.assertEqual(result.returncode, 1)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 3, result.stderr)
        self.assertIn("SECRET_KEY", lines[0])
        self.assertIn("MONGODB_URI", lines[1])
        self.assertIn("MAIL_SERVER", lines[2])
        self.assertTrue(all(line.startswith("configuration error: ") for line in lines), lines)
        self.assertNotIn("Traceback", result.stderr)

    def test_import_manage_in_production_names_missing_uri(self) -> None:
        result = self.run_manage(FLASK_CONFIG="production", SECRET_KEY=GOOD_SECRET)
        self.assertEqual(result.returncode, 1)
        self.assertIn("MONGODB_URI", result.stderr)

    def test_import_manage_in_production_names_missing_mail_server(self) -> None:
        result = self.run_manage(FLASK_CONFIG="production", SECRET_KEY=GOOD_SECRET, MONGODB_URI="mongodb://db")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip(), "configuration error: MAIL_SERVER must be set in production")

    def test_import_manage_needs_no_environment(self) -> None:
        result = self.run_manage()
        self.assertEqual(result.returncode, 0, result.stderr)


class ConfigCheckTest(unittest.TestCase):
    """Settings that parse but cannot work stop start-up, all reported together, one line each."""

    def problems(self, config_name: str = "production", **settings: object) -> list[str]:
        production = {"SECRET_KEY": GOOD_SECRET, "MONGODB_URI": "mongodb://db", "MAIL_SERVER": "smtp.test"}
        base = production if config_name == "production" else {}
        with self.assertRaises(ConfigError) as raised:
            create_app(config_name, {**base, **settings})
        return raised.exception.problems

    def test_every_bad_setting_is_reported_at_once(self) -> None:
        problems = self.problems(
            MONGODB_WRITE_CONCERN="majorty",
            MONGODB_URI="mongodb//localhost",
            PASSWORD_HASH_TIME_COST=0,
            ACCESS_TOKEN_TTL_S=-5,
            RATELIMIT_AUTH="ten a minute",
        )
        self.assertEqual(len(problems), 5, problems)
        for name in ("MONGODB_WRITE_CONCERN", "MONGODB_URI", "PASSWORD_HASH_TIME_COST", "ACCESS_TOKEN_TTL_S"):
            self.assertEqual(sum(problem.startswith(name) for problem in problems), 1, (name, problems))
        self.assertTrue(any(problem.startswith("RATELIMIT_AUTH") for problem in problems))

    def test_uris_are_checked_with_pymongos_parser_without_dns(self) -> None:
        for uri in ("mongodb://localhost:99999", "http://db", "mongodb+srv://a.example.net:27017/app"):
            with self.subTest(uri=uri):
                self.assertTrue(self.problems(MONGODB_URI=uri)[0].startswith("MONGODB_URI"))
        self.build_ok(MONGODB_URI="mongodb+srv://user:pw@cluster0.example.net/app?retryWrites=true")
        self.build_ok(MONGODB_URI="mongodb://a:27017,b:27017/app?replicaSet=rs0", MONGODB_WRITE_CONCERN="2")

    def test_argon2_costs_must_be_within_the_librarys_limits(self) -> None:
        self.assertIn("PASSWORD_HASH_PARALLELISM", self.problems(PASSWORD_HASH_PARALLELISM=0)[0])
        self.assertIn(
            "PASSWORD_HASH_MEMORY_KIB", self.problems(PASSWORD_HASH_MEMORY_KIB=16, PASSWORD_HASH_PARALLELISM=4)[0]
        )
        self.assertIn("PASSWORD_HASH_PARALLELISM", self.problems(PASSWORD_HASH_PARALLELISM=2**24)[0])

    def test_unparseable_and_meaningless_values_are_reported_together(self) -> None:
        environ = {"FLASK_CONFIG": "production", "MONGODB_TIMEOUT_MS": "soon", "READY_TIMEOUT_MS": "0"}
        settings, problems = ProductionConfig.read(environ)
        problems += ProductionConfig.check(settings)
        self.assertEqual(
            [problem.split()[0] for problem in problems],
            ["MONGODB_TIMEOUT_MS", "SECRET_KEY", "MONGODB_URI", "MAIL_SERVER", "READY_TIMEOUT_MS"],
        )

    def test_development_without_secret_uses_the_development_key_with_a_warning(self) -> None:
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            app = create_app("development", {"SECRET_KEY": None, "MONGODB_URI": "mongodb://db"})
        self.assertEqual(app.config["SECRET_KEY"], DEV_SECRET_KEY)
        warnings = [json.loads(line) for line in output.getvalue().splitlines()]
        self.assertEqual([entry["level"] for entry in warnings], ["WARNING"])
        self.assertIn("SECRET_KEY is not set", warnings[0]["message"])

    def build_ok(self, **settings: object) -> None:
        create_app(
            "production",
            {"SECRET_KEY": GOOD_SECRET, "MONGODB_URI": "mongodb://db", "MAIL_SERVER": "smtp.test", **settings},
        )


class EnvExampleTest(ApiTestCase):
    def test_env_example_copied_to_env_works_as_is_in_development(self) -> None:
        values = {key: value or "" for key, value in dotenv_values(ROOT / ".env.example").items()}
        self.assertEqual(values["SECRET_KEY"], "")  # the case that used to answer login with a 500
        # Set but empty, prometheus_client writes its sample files into the current directory.
        self.assertNotIn("PROMETHEUS_MULTIPROC_DIR", values)
        # Nor the settings whose default differs in development, which a copied .env would override.
        development_only = {
            name for name in vars(DevelopmentConfig) if name.isupper() and hasattr(ProductionConfig, name)
        }
        self.assertEqual(development_only & values.keys() - {"ENV_NAME", "DEBUG"}, set())
        with mock.patch.dict(os.environ, values, clear=True), contextlib.redirect_stdout(io.StringIO()):
            app = create_app(values["FLASK_CONFIG"], {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name})
        upgrade(self.db)  # what `make run` does first (the app would do it itself on first use, printing it)
        client = app.test_client()
        account = {"email": "ada@example.com", "password": "correct horse battery"}
        self.assertEqual(client.post("/api/v1/auth/signup", json={**account, "name": "Ada"}).status_code, 201)
        self.assertEqual(client.post("/api/v1/auth/login", json=account).status_code, 200)


@uses_subprocesses
class HelpTest(unittest.TestCase):
    def test_flask_help_answers_under_a_bad_production_config(self) -> None:
        flask = Path(sys.executable).with_name("flask")
        env = {**os.environ, "FLASK_CONFIG": "production", "MONGODB_URI": "mongodb//x", "FLASK_SKIP_DOTENV": "1"}
        env["FLASK_APP"] = "manage"  # what .flaskenv sets; FLASK_SKIP_DOTENV skips that file too
        result = subprocess.run([str(flask), "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Commands:", result.stdout)
        self.assertIn("configuration error: MONGODB_URI", result.stderr)
        self.assertNotIn("Traceback", result.stderr)
