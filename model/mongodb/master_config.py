"""Key/value settings kept in the database."""

from __future__ import annotations

from typing import Any

from model.mongodb.base import Document, Model


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

    def set_value(self, key: str, value: Any) -> Document | None:
        """Store `value` under `key`, creating the setting if needed; return the setting as it was, or None."""
        return self.upsert(key, {"value": value})
