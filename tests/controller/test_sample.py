"""The author/log controller, on a real database and without an app."""

from __future__ import annotations

from controller import sample
from controller.errors import NotFound
from tests.base import DatabaseTestCase


class SampleControllerTest(DatabaseTestCase):
    def test_get_author_returns_seed(self) -> None:
        self.assertEqual(sample.get_author(self.db)["name"], "IML")

    def test_get_author_without_seed_raises_not_found(self) -> None:
        self.db.master_config.delete_many({})
        with self.assertRaises(NotFound):
            sample.get_author(self.db)

    def test_set_author_stores_name_and_audits_old_and_new(self) -> None:
        result = sample.set_author(self.db, name="Grace", request_id="r1", actor="10.0.0.1")
        self.assertEqual(result["name"], "Grace")
        self.assertEqual(sample.get_author(self.db)["name"], "Grace")
        [entry] = sample.list_logs(self.db, limit=10)
        self.assertEqual(entry["event"], "author.updated")
        self.assertEqual(entry["detail"], {"old": "IML", "new": "Grace"})
        self.assertEqual((entry["request_id"], entry["actor"]), ("r1", "10.0.0.1"))

    def test_set_author_creates_setting_when_missing(self) -> None:
        self.db.master_config.delete_many({})
        sample.set_author(self.db, name="Linus")
        self.assertEqual(sample.get_author(self.db)["name"], "Linus")
        self.assertIsNone(sample.list_logs(self.db, limit=1)[0]["detail"]["old"])

    def test_list_logs_limits_and_orders_newest_first(self) -> None:
        for index in range(5):
            sample.set_author(self.db, name=f"n{index}")
        names = [entry["detail"]["new"] for entry in sample.list_logs(self.db, limit=3)]
        self.assertEqual(names, ["n4", "n3", "n2"])
