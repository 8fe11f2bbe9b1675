"""The Post model: validator, indexes and keyset pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bson import ObjectId
from pymongo.errors import WriteError

from model.mongodb import Post
from tests.base import DatabaseTestCase


class PostModelTest(DatabaseTestCase):
    def insert(self, published_at: datetime | None = None, **fields: object) -> dict:
        values = {
            "title": "T",
            "body": "B",
            "tags": [],
            "status": "published" if published_at else "draft",
            "owner_id": ObjectId(),
            "published_at": published_at,
            **fields,
        }
        return Post(self.db).insert(values)

    def test_validator_rejects_bad_documents(self) -> None:
        now = datetime.now(UTC)
        for fields in ({"status": "gone"}, {"tags": ["x" * 31]}, {"title": ""}, {"owner_id": "me"}, {"extra": 1}):
            with self.subTest(fields=fields), self.assertRaises(WriteError):
                self.insert(now, **fields)

    def test_pages_walk_ties_on_published_at_exactly_once(self) -> None:
        same = datetime(2026, 1, 1, tzinfo=UTC)
        ids = {self.insert(same)["_id"] for _ in range(7)} | {self.insert(same - timedelta(seconds=1))["_id"]}
        for newest_first in (True, False):
            seen: list[ObjectId] = []
            after = None
            while True:
                page = Post(self.db).list_page(status="published", limit=3, newest_first=newest_first, after=after)
                if not page:
                    break
                seen += [post["_id"] for post in page]
                after = (page[-1]["published_at"], page[-1]["_id"])
            self.assertEqual(len(seen), len(ids))
            self.assertEqual(set(seen), ids)

    def test_list_page_filters_by_status_tag_and_owner(self) -> None:
        owner = ObjectId()
        now = datetime.now(UTC)
        wanted = self.insert(now, tags=["a"], owner_id=owner)
        self.insert(now, tags=["b"], owner_id=owner)
        self.insert(None, tags=["a"], owner_id=owner)
        page = Post(self.db).list_page(status="published", limit=10, newest_first=True, tag="a", owner_id=owner)
        self.assertEqual([post["_id"] for post in page], [wanted["_id"]])

    def test_list_queries_are_served_by_their_indexes(self) -> None:
        collection = Post(self.db).collection
        order = [("published_at", -1), ("_id", -1)]
        expectations = {
            "status_published": {"status": "published"},
            "status_tags_published": {"status": "published", "tags": "a"},
            "status_owner_published": {"status": "published", "owner_id": ObjectId()},
        }
        for index_name, query in expectations.items():
            with self.subTest(index_name):
                plan = collection.find(query).sort(order).limit(5).explain()["queryPlanner"]["winningPlan"]
                self.assertIn(index_name, str(plan))
