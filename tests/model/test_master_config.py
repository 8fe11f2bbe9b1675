"""The MasterConfig model."""

from __future__ import annotations

from model.mongodb import MasterConfig
from tests.base import DatabaseTestCase


class MasterConfigModelTest(DatabaseTestCase):
    def test_set_value_returns_before_and_after(self) -> None:
        settings = MasterConfig(self.db)
        before, after = settings.set_value("author", "New")
        self.assertEqual(before["value"], "IML")
        self.assertEqual(after["value"], "New")
        self.assertEqual(settings.get_entry("author")["value"], "New")
        self.assertEqual(settings.get_entry("author")["created_at"], before["created_at"])

    def test_set_value_creates_missing_key(self) -> None:
        before, after = MasterConfig(self.db).set_value("theme", {"dark": True})
        self.assertIsNone(before)
        self.assertEqual(MasterConfig(self.db).get_entry("theme")["value"], {"dark": True})
        self.assertEqual(after["created_at"], after["updated_at"])

    def test_get_entry_of_unknown_key_is_none(self) -> None:
        self.assertIsNone(MasterConfig(self.db).get_entry("missing"))
