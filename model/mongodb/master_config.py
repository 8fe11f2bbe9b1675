"""Key/value settings kept in the database."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from model.mongodb.base import Document, Model, utcnow


class MasterConfig(Model):
    """Named settings such as the sample "author"; the key is the document's `_id`."""

    collection_name = "master_config"
    properties = {
        "_id": {"bsonType": "string", "minLength": 1, "maxLength": 100},
        "value": {},
    }
    required = ("value",)
    seed_documents = ({"_id": "author", "value": "IML"},)

    def get_entry(self, key: str) -> Document | None:
        """Return the setting called `key`, or None."""
        return self.get(key)

    def set_value(self, key: str, value: Any) -> tuple[Document | None, Document]:
        """Store `value` under `key`, creating the setting if needed; return it before and after."""
        now = utcnow()
        before = self.collection.find_one_and_update(
            {"_id": key},
            {
                "$set": {"value": value, "updated_at": now},
                "$setOnInsert": {"schema_version": self.schema_version, "created_at": now},
            },
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        created = before["created_at"] if before else now
        after = {
            "_id": key,
            "value": value,
            "schema_version": self.schema_version,
            "created_at": created,
            "updated_at": now,
        }
        return before, after
