"""The project's flask commands."""

from __future__ import annotations

from app.commands import register_commands
from tests.base import ApiTestCase


class DbInitCommandTest(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        register_commands(self.app)
        self.db.client.drop_database(self.db.name)
        self.runner = self.app.test_cli_runner()

    def test_db_init_creates_then_reports_nothing_to_change(self) -> None:
        first = self.runner.invoke(args=["db-init"])
        self.assertEqual(first.exit_code, 0, first.output)
        self.assertIn("created collection logs", first.output)
        self.assertIn("seeded master_config author", first.output)
        self.assertIn("change(s) applied", first.output)

        second = self.runner.invoke(args=["db-init"])
        self.assertEqual(second.exit_code, 0, second.output)
        self.assertIn("nothing to change", second.output)
        self.assertNotIn("created", second.output)

    def test_db_init_keeps_existing_seed_values(self) -> None:
        self.runner.invoke(args=["db-init"])
        self.db.master_config.update_one({"_id": "author"}, {"$set": {"value": "Changed"}})
        self.runner.invoke(args=["db-init"])
        self.assertEqual(self.db.master_config.find_one({"_id": "author"})["value"], "Changed")
