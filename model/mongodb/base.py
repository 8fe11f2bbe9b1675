"""The base class of every collection model."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pymongo import IndexModel, ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import CollectionInvalid, OperationFailure

Document = dict[str, Any]

# Fields every document carries; the base class writes them.
BASE_PROPERTIES: dict[str, Any] = {
    "_id": {"bsonType": "objectId"},
    "schema_version": {"bsonType": "int", "minimum": 1},
    "created_at": {"bsonType": "date"},
    "updated_at": {"bsonType": "date"},
}
INDEX_META = frozenset({"v", "ns", "name", "key", "background"})
NAMESPACE_EXISTS = 48  # the server's code for a collection created twice


class IndexConflict(Exception):
    """Raised when an index exists under a declared name but with other keys or options."""


def utcnow() -> datetime:
    """Return the current UTC time cut to milliseconds, the precision MongoDB stores."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Model:
    """One MongoDB collection: its name, validator, indexes, seed documents and queries.

    Subclasses declare `collection_name`, `properties` and `required` (the `$jsonSchema` of their
    own fields), `indexes` (each with an explicit name) and `schema_version`. Instances wrap the
    collection of the database they are given, so callers choose the database.
    """

    collection_name: ClassVar[str]
    schema_version: ClassVar[int] = 1
    properties: ClassVar[dict[str, Any]] = {}
    required: ClassVar[tuple[str, ...]] = ()
    indexes: ClassVar[tuple[IndexModel, ...]] = ()
    seed_documents: ClassVar[tuple[Document, ...]] = ()

    def __init__(self, db: Database) -> None:
        self.collection: Collection = db[self.collection_name]

    # --- shared queries ------------------------------------------------------------------------

    def insert(self, fields: Mapping[str, Any]) -> Document:
        """Insert a document with its timestamps and schema version; return it with its `_id`."""
        document = self.stamp(fields)
        self.collection.insert_one(document)
        return document

    def get(self, _id: Any, projection: Mapping[str, Any] | None = None) -> Document | None:
        """Return the document with this `_id`, or None."""
        return self.collection.find_one({"_id": _id}, projection)

    def update(
        self, _id: Any, changes: Mapping[str, Any], *, where: Mapping[str, Any] | None = None
    ) -> Document | None:
        """Set `changes` on the document with this `_id` (and matching `where`); return it updated, or None."""
        return self.collection.find_one_and_update(
            {**(where or {}), "_id": _id},
            {"$set": {**changes, "updated_at": utcnow()}},
            return_document=ReturnDocument.AFTER,
        )

    def upsert(self, _id: Any, fields: Mapping[str, Any]) -> Document | None:
        """Set `fields` on the document with this `_id`, creating it if needed; return it as it was, or None."""
        now = utcnow()
        return self.collection.find_one_and_update(
            {"_id": _id},
            {
                "$set": {**fields, "updated_at": now},
                "$setOnInsert": {"schema_version": self.schema_version, "created_at": now},
            },
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )

    def page(
        self,
        query: Mapping[str, Any],
        *,
        order_by: str,
        limit: int,
        newest_first: bool = True,
        after: tuple[Any, Any] | None = None,
    ) -> list[Document]:
        """Return up to `limit` documents of `query`, ordered by (`order_by`, _id), after the `after` position.

        Keyset pagination: `after` is the (order_by value, _id) of the last document already seen, so
        each page is one index seek whatever its depth (no `skip`), and documents inserted meanwhile
        never shift the pages. The position is a plain range on `order_by`, which every planner turns
        into index bounds, minus the documents at that same value that were already seen. Back it with
        an index on (equality fields..., order_by, _id).
        """
        filters: dict[str, Any] = dict(query)
        if after is not None:
            value, last_id = after
            up_to, seen = ("$lte", "$gte") if newest_first else ("$gte", "$lte")
            filters[order_by] = {up_to: value}
            filters["$nor"] = [{order_by: value, "_id": {seen: last_id}}]
        direction = -1 if newest_first else 1
        return list(self.collection.find(filters).sort([(order_by, direction), ("_id", direction)]).limit(limit))

    def delete(self, _id: Any) -> bool:
        """Delete the document with this `_id`; tell whether there was one."""
        return self.collection.delete_one({"_id": _id}).deleted_count == 1

    @classmethod
    def stamp(cls, fields: Mapping[str, Any]) -> Document:
        """Return `fields` with the creation timestamps and schema version a new document needs."""
        now = utcnow()
        return {**fields, "schema_version": cls.schema_version, "created_at": now, "updated_at": now}

    # --- db-init --------------------------------------------------------------------------------

    @classmethod
    def validator(cls) -> dict[str, Any]:
        """Return the `$jsonSchema` validator: the base fields plus the model's, and nothing else."""
        return {
            "$jsonSchema": {
                "bsonType": "object",
                "required": ["_id", "schema_version", "created_at", "updated_at", *cls.required],
                "properties": {**BASE_PROPERTIES, **cls.properties},
                "additionalProperties": False,
            }
        }

    @classmethod
    def ensure_collection(cls, db: Database) -> list[str]:
        """Create or update the collection, its validator, indexes and seeds; return what changed."""
        name = cls.collection_name
        validator = cls.validator()
        changes: list[str] = []
        existing = next(iter(db.list_collections(filter={"name": name})), None)
        if existing is None:
            try:
                db.create_collection(name, validator=validator, validationLevel="strict", validationAction="error")
                changes.append(f"created collection {name}")
            except (CollectionInvalid, OperationFailure) as error:
                # Another process created it meanwhile (a web app and its worker starting at once): check it.
                if isinstance(error, OperationFailure) and error.code != NAMESPACE_EXISTS:
                    raise
                existing = next(iter(db.list_collections(filter={"name": name})), {})
        if existing is not None and existing.get("options", {}).get("validator") != validator:
            db.command("collMod", name, validator=validator, validationLevel="strict", validationAction="error")
            changes.append(f"updated validator of {name}")
        changes += cls._ensure_indexes(db[name])
        changes += cls.seed(db)
        return changes

    @classmethod
    def seed(cls, db: Database) -> list[str]:
        """Insert the seed documents that are missing (an existing one is left as it is); return what changed."""
        changes: list[str] = []
        for seed in cls.seed_documents:
            fields = {key: value for key, value in seed.items() if key != "_id"}
            result = db[cls.collection_name].update_one(
                {"_id": seed["_id"]}, {"$setOnInsert": cls.stamp(fields)}, upsert=True
            )
            if result.upserted_id is not None:
                changes.append(f"seeded {cls.collection_name} {seed['_id']}")
        return changes

    @classmethod
    def _ensure_indexes(cls, collection: Collection) -> list[str]:
        """Create missing indexes and bring TTL changes in line; refuse any other difference."""
        current = collection.index_information()
        changes: list[str] = []
        for index in cls.indexes:
            wanted = index.document
            name = wanted["name"]
            have = current.get(name)
            if have is None:
                collection.create_indexes([index])
                changes.append(f"created index {collection.name}.{name}")
                continue
            wanted_options = {k: v for k, v in wanted.items() if k not in INDEX_META}
            have_options = {k: v for k, v in have.items() if k not in INDEX_META}
            if normalise_keys(wanted["key"].items()) != normalise_keys(have["key"]):
                raise IndexConflict(f"index {collection.name}.{name} exists with other keys; change it in a migration")
            if wanted_options == have_options:
                continue
            ttl = wanted_options.pop("expireAfterSeconds", None)
            have_options.pop("expireAfterSeconds", None)
            if ttl is None or wanted_options != have_options:
                raise IndexConflict(
                    f"index {collection.name}.{name} exists with other options; change it in a migration"
                )
            collection.database.command("collMod", collection.name, index={"name": name, "expireAfterSeconds": ttl})
            changes.append(f"changed TTL of index {collection.name}.{name} to {ttl} s")
        return changes


def normalise_keys(pairs: Any) -> list[tuple[str, Any]]:
    """Normalise index key directions (the server may answer 1.0 for 1)."""
    return [(field, int(d) if isinstance(d, float) else d) for field, d in pairs]
