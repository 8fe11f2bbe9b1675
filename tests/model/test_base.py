"""The model base class: db-init behaviour, validators, indexes and shared queries."""

from __future__ import annotations

from typing import ClassVar

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.errors import WriteError

from model.mongodb import MODELS, AuditLog, IndexConflict, Model, init_db
from tests.base import DatabaseTestCase


class Widget(Model):
    collection_name = "widgets"
    properties: ClassVar = {"name": {"bsonType": "string"}, "expires_at": {"bsonType": "date"}}
    required = ("name",)
    indexes = (IndexModel([("name", ASCENDING)], name="name_unique", unique=True),)


class ModelBaseTest(DatabaseTestCase):
    def test_init_db_twice_changes_nothing_the_second_time(self) -> None:
        self.db.client.drop_database(self.db.name)
        first = init_db(self.db)
        self.assertTrue(any(change.startswith("created collection") for change in first))
        self.assertTrue(any(change.startswith("seeded") for change in first))
        self.assertEqual(init_db(self.db), [])

    def test_init_db_creates_every_model_with_validator_and_named_indexes(self) -> None:
        for model in MODELS:
            with self.subTest(model.collection_name):
                info = next(self.db.list_collections(filter={"name": model.collection_name}))
                self.assertEqual(info["options"]["validator"], model.validator())
                names = set(self.db[model.collection_name].index_information())
                self.assertLessEqual({index.document["name"] for index in model.indexes}, names)

    def test_ensure_collection_restores_changed_validator(self) -> None:
        self.db.command("collMod", AuditLog.collection_name, validator={})
        self.assertEqual(AuditLog.ensure_collection(self.db), ["updated validator of logs"])

    def test_ensure_collection_updates_ttl_with_collmod(self) -> None:
        self.db.command("collMod", "logs", index={"name": "ttl_created_at", "expireAfterSeconds": 60})
        changes = AuditLog.ensure_collection(self.db)
        self.assertEqual(len(changes), 1)
        self.assertIn("changed TTL", changes[0])
        ttl = self.db.logs.index_information()["ttl_created_at"]["expireAfterSeconds"]
        self.assertEqual(ttl, AuditLog.indexes[0].document["expireAfterSeconds"])

    def test_ensure_collection_refuses_index_with_other_keys(self) -> None:
        self.db.widgets.create_index([("other", ASCENDING)], name="name_unique")
        with self.assertRaises(IndexConflict):
            Widget.ensure_collection(self.db)

    def test_ensure_collection_refuses_index_with_other_options(self) -> None:
        self.db.widgets.create_index([("name", ASCENDING)], name="name_unique")
        with self.assertRaisesRegex(IndexConflict, "other options"):
            Widget.ensure_collection(self.db)

    def test_validator_rejects_unknown_and_missing_fields(self) -> None:
        Widget.ensure_collection(self.db)
        with self.assertRaises(WriteError) as caught:
            Widget(self.db).insert({"name": "a", "colour": "red"})
        self.assertEqual(caught.exception.code, 121)
        with self.assertRaises(WriteError):
            Widget(self.db).insert({})
        with self.assertRaises(WriteError):
            self.db.widgets.insert_one({"name": "no timestamps"})

    def test_insert_stamps_timezone_aware_utc_timestamps_and_version(self) -> None:
        Widget.ensure_collection(self.db)
        document = Widget(self.db).insert({"name": "a"})
        stored = Widget(self.db).get(document["_id"])
        self.assertEqual(stored, document)
        self.assertEqual(stored["created_at"].utcoffset().total_seconds(), 0)
        self.assertEqual(stored["created_at"].microsecond % 1000, 0)
        self.assertEqual(stored["schema_version"], 1)

    def test_update_sets_fields_and_bumps_updated_at(self) -> None:
        Widget.ensure_collection(self.db)
        widgets = Widget(self.db)
        created = widgets.insert({"name": "a"})
        updated = widgets.update(created["_id"], {"name": "b"})
        self.assertEqual(updated["name"], "b")
        self.assertGreaterEqual(updated["updated_at"], created["updated_at"])
        self.assertEqual(updated["created_at"], created["created_at"])
        self.assertIsNone(widgets.update(ObjectId(), {"name": "c"}))
        self.assertIsNone(widgets.update(created["_id"], {"name": "c"}, where={"name": "zzz"}))

    def test_delete_tells_whether_a_document_was_removed(self) -> None:
        Widget.ensure_collection(self.db)
        created = Widget(self.db).insert({"name": "a"})
        self.assertTrue(Widget(self.db).delete(created["_id"]))
        self.assertFalse(Widget(self.db).delete(created["_id"]))
        self.assertIsNone(Widget(self.db).get(created["_id"]))
