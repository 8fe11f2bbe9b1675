"""Settings: environment overrides, parsing errors and production's refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import unittest
from pathlib import Path

from flask import Flask

from app import create_app
from config import DEV_SECRET_KEY, ConfigError, DevelopmentConfig, ProductionConfig, TestingConfig, get_config
from tests.base import uses_subprocesses

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

    def test_import_manage_in_production_without_settings_exits_with_one_line(self) -> None:
        result = self.run_manage(FLASK_CONFIG="production")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip().count("\n"), 0, result.stderr)
        self.assertIn("SECRET_KEY", result.stderr)
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
