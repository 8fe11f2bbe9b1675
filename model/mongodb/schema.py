"""What `db-init` would change, and what stored data would stop it, read without changing anything.

`pending` lists what a database lacks of the models' declarations (collections, validators, named
indexes, seed documents). `violations` lists the documents that a new unique index or a new validator
would refuse, so that `db-init` can report them all and apply nothing, instead of failing half-way with
a DuplicateKeyError.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pymongo.collection import Collection
from pymongo.database import Database

from model.mongodb.base import INDEX_META, Model, normalise_keys

SHOWN_IDS = 5  # offending ids named per problem; the count says how many there are in all
FIX_DUPLICATES = "remove or change the duplicates (flask shell), then run flask db-init again"
FIX_INVALID = "fix or delete those documents (flask shell), or add a migration that does, then run flask db-init"
FIX_CONFLICT = "drop or rename the old index in a migration (model/migrations/), then run flask db-init"


class SchemaViolation(Exception):
    """Raised when stored data or indexes stop `db-init`; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _existing(db: Database) -> dict[str, dict[str, Any]]:
    """Return every collection's options by name, in one round trip."""
    return {info["name"]: info.get("options", {}) for info in db.list_collections()}


def pending(db: Database, models: Iterable[type[Model]]) -> list[str]:
    """Return one line for each declared collection, validator, index or seed the database lacks."""
    existing = _existing(db)
    missing: list[str] = []
    for model in models:
        name = model.collection_name
        if name not in existing:
            missing.append(f"collection {name}")
            continue
        if existing[name].get("validator") != model.validator():
            missing.append(f"validator of {name}")
        have = db[name].index_information()
        missing += [
            f"index {name}.{index.document['name']}" for index in model.indexes if index_differs(index.document, have)
        ]
        seeds = [seed["_id"] for seed in model.seed_documents]
        if seeds and db[name].count_documents({"_id": {"$in": seeds}}) < len(seeds):
            missing.append(f"seed documents of {name}")
    return missing


def index_differs(wanted: dict[str, Any], have: Mapping[str, Any]) -> bool:
    """Tell whether the index `wanted` is missing from `have` (index_information) or declared otherwise."""
    current = have.get(wanted["name"])
    if current is None:
        return True
    options = {k: v for k, v in wanted.items() if k not in INDEX_META}
    current_options = {k: v for k, v in current.items() if k not in INDEX_META}
    return normalise_keys(wanted["key"].items()) != normalise_keys(current["key"]) or options != current_options


def violations(db: Database, models: Iterable[type[Model]]) -> list[str]:
    """Return one line per problem that would stop `db-init`: collection, index, offending ids, the fix."""
    existing = _existing(db)
    problems: list[str] = []
    for model in models:
        name = model.collection_name
        if name not in existing:
            continue  # a new collection holds nothing to violate
        collection = db[name]
        have = collection.index_information()
        for index in model.indexes:
            problems += _index_problems(collection, index.document, have)
        if existing[name].get("validator") != model.validator():
            invalid = [doc["_id"] for doc in collection.find({"$nor": [model.validator()]}, {"_id": 1})]
            if invalid:
                problems.append(
                    f"{name}: validator: {len(invalid)} document(s) do not match the model's schema, "
                    f"ids {_ids(invalid)}; fix: {FIX_INVALID}"
                )
    return problems


def _index_problems(collection: Collection, wanted: dict[str, Any], have: Mapping[str, Any]) -> list[str]:
    """Return why the index `wanted` cannot be created or kept on `collection` (empty when it can)."""
    name, where = wanted["name"], f"{collection.name}: index {wanted['name']}"
    current = have.get(name)
    if current is not None:
        if normalise_keys(wanted["key"].items()) != normalise_keys(current["key"]):
            return [f"{where}: exists with other keys; fix: {FIX_CONFLICT}"]
        options = {k: v for k, v in wanted.items() if k not in INDEX_META and k != "expireAfterSeconds"}
        current_options = {k: v for k, v in current.items() if k not in INDEX_META and k != "expireAfterSeconds"}
        if options != current_options:
            return [f"{where}: exists with other options; fix: {FIX_CONFLICT}"]
        return []
    if not wanted.get("unique"):
        return []
    fields = [field for field, _ in wanted["key"].items()]
    match: dict[str, Any] = dict(wanted.get("partialFilterExpression", {}))
    if wanted.get("sparse"):
        match.update({field: {"$exists": True} for field in fields})
    groups = list(
        collection.aggregate(
            [
                {"$match": match},
                {"$group": {"_id": {f.replace(".", "_"): f"${f}" for f in fields}, "ids": {"$push": "$_id"}}},
                {"$match": {"ids.1": {"$exists": True}}},
                {"$limit": SHOWN_IDS},
            ]
        )
    )
    if not groups:
        return []
    ids = [_id for group in groups for _id in group["ids"]]
    return [
        f"{where}: unique on {', '.join(fields)}, but {len(groups)}{'+' if len(groups) == SHOWN_IDS else ''} "
        f"value(s) are shared by several documents, ids {_ids(ids)}; fix: {FIX_DUPLICATES}"
    ]


def _ids(ids: list[Any]) -> str:
    """Name the first few ids and how many more there are."""
    shown = ", ".join(str(_id) for _id in ids[:SHOWN_IDS])
    return shown + (f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else "")
