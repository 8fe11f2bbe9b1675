"""The MasterConfig model."""

from __future__ import annotations

from model.mongodb import MasterConfig
from tests.base import DatabaseTestCase


class MasterConfigModelTest(DatabaseTestCase):
    def test_set_value_returns_previous_entry_and_keeps_created_at(self) -> None:
        settings = MasterConfig(self.db)
        before = settings.set_value("author", "New")
        self.assertEqual(before["value"], "IML")
        after = settings.get_entry("author")
        self.assertEqual(after["value"], "New")
        self.assertEqual(after["created_at"], before["created_at"])
        self.assertGreaterEqual(after["updated_at"], before["updated_at"])

    def test_set_value_creates_missing_key(self) -> None:
        self.assertIsNone(MasterConfig(self.db).set_value("theme", {"dark": True}))
        entry = MasterConfig(self.db).get_entry("theme")
        self.assertEqual(entry["value"], {"dark": True})
        self.assertEqual((entry["created_at"], entry["schema_version"]), (entry["updated_at"], 1))

    def test_get_entry_of_unknown_key_is_none(self) -> None:
        self.assertIsNone(MasterConfig(self.db).get_entry("missing"))
