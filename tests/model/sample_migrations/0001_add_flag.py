"""Add a flag document (reversible)."""

from pymongo.database import Database


def up(db: Database) -> None:
    db.migration_runs.update_one({"_id": "0001"}, {"$inc": {"runs": 1}}, upsert=True)
    db.flags.insert_one({"_id": "flag"})


def down(db: Database) -> None:
    db.flags.delete_one({"_id": "flag"})
