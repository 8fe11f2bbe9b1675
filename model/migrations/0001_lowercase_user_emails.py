"""Trim and lower-case the emails of accounts created before emails were normalised.

Login looks an email up in its normalised form, so an account stored as "Ada@Example.com" could not log
in. Two accounts that become the same address cannot both keep it: the migration then stops, names
them and changes nothing for those two, so that a person decides which account keeps the address.
There is no down(): the original spelling is not kept.
"""

from __future__ import annotations

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from model.migrations import MigrationError
from model.mongodb import User, utcnow


def up(db: Database) -> None:
    """Normalise every email that is not yet normalised."""
    users = User(db).collection
    unnormalised = {"$expr": {"$ne": ["$email", {"$toLower": {"$trim": {"input": "$email"}}}]}}
    clashes = []
    for user in users.find(unnormalised, {"email": 1}):
        normalised = user["email"].strip().lower()
        try:
            users.update_one({"_id": user["_id"]}, {"$set": {"email": normalised, "updated_at": utcnow()}})
        except DuplicateKeyError:
            clashes.append(f"{user['_id']} ({user['email']!r})")
    if clashes:
        raise MigrationError(f"these accounts clash with another account's email once normalised: {', '.join(clashes)}")
