"""Listing posts through the API: visibility, order, filters and signed keyset cursors."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from bson import ObjectId

from app import create_app
from tests.api.test_posts import POSTS, PostsApiTestCase
from tests.base import mongo_uri


class ListPostsApiTest(PostsApiTestCase):
    def list(self, **query: Any) -> dict[str, Any]:
        response = self.client.get(POSTS, query_string=query)
        self.assertEqual(response.status_code, 200, response.get_data(as_text=True))
        return response.get_json()

    def test_list_shows_only_published_newest_first(self) -> None:
        first = self.post_of(status="published")
        self.post_of()  # a draft
        second = self.post_of(status="published")
        body = self.list()
        self.assertEqual([p["id"] for p in body["items"]], [str(second["id"]), str(first["id"])])
        self.assertIsNone(body["next_cursor"])
        oldest = self.list(sort="oldest")["items"]
        self.assertEqual([p["id"] for p in oldest], [str(first["id"]), str(second["id"])])

    def test_list_filters_by_tag_and_author(self) -> None:
        tagged = self.post_of(status="published", tags=["python"])
        by_other = self.post_of(self.other, status="published", tags=["go"])
        self.assertEqual([p["id"] for p in self.list(tag="Python")["items"]], [str(tagged["id"])])
        self.assertEqual([p["id"] for p in self.list(author=str(self.other["_id"]))["items"]], [str(by_other["id"])])
        self.assertEqual(self.list(tag="python", author=str(self.other["_id"]))["items"], [])

    def test_list_with_bad_parameters_is_400(self) -> None:
        bad = [
            {"limit": "0"},
            {"limit": "101"},
            {"limit": "ten"},
            {"sort": "random"},
            {"author": "nope"},
            {"author": "a" * 24 + "\n"},
            {"tag": "no spaces"},
            {"cursor": "garbage"},
            {"cursor": "W10"},
        ]
        for query in bad:
            with self.subTest(query=query):
                self.assertError(self.client.get(POSTS, query_string=query), 400)

    def test_pages_cover_every_post_once(self) -> None:
        ids = {str(self.post_of(status="published")["id"]) for _ in range(25)}
        for sort in ("newest", "oldest"):
            seen: list[str] = []
            cursor = None
            pages = 0
            while True:
                query = {"limit": 10, "sort": sort, **({"cursor": cursor} if cursor else {})}
                body = self.list(**query)
                seen += [p["id"] for p in body["items"]]
                pages += 1
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            self.assertEqual(pages, 3)
            self.assertEqual(len(seen), len(set(seen)))
            self.assertEqual(set(seen), ids)

    def test_pages_stay_stable_while_posts_are_inserted(self) -> None:
        original = {str(self.post_of(status="published")["id"]) for _ in range(12)}
        for sort in ("newest", "oldest"):
            seen: list[str] = []
            body = self.list(limit=5, sort=sort)
            while True:
                seen += [p["id"] for p in body["items"]]
                self.post_of(status="published")  # a concurrent writer
                if body["next_cursor"] is None:
                    break
                body = self.list(limit=5, sort=sort, cursor=body["next_cursor"])
            self.assertEqual(len(seen), len(set(seen)), "no post appears twice")
            self.assertLessEqual(original, set(seen), "no original post is skipped")

    def test_cursor_is_bound_to_its_sort_order(self) -> None:
        for _ in range(3):
            self.post_of(status="published")
        cursor = self.list(limit=1)["next_cursor"]
        self.assertError(
            self.client.get(POSTS, query_string={"cursor": cursor, "sort": "oldest"}), 400, "invalid_cursor"
        )

    def test_hand_built_cursor_is_400(self) -> None:
        for _ in range(3):
            self.post_of(status="published")
        position = json.dumps(["newest", int(time.time() * 1000), str(ObjectId())], separators=(",", ":"))
        forged = base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")
        self.assertError(self.client.get(POSTS, query_string={"cursor": forged}), 400, "invalid_cursor")

    def test_cursor_is_bound_to_its_filters(self) -> None:
        for _ in range(3):
            self.post_of(status="published", tags=["python"])
        cursor = self.list(limit=1, tag="python")["next_cursor"]
        self.assertEqual(len(self.list(limit=1, tag="python", cursor=cursor)["items"]), 1)
        for query in ({}, {"tag": "rust"}, {"tag": "python", "author": str(ObjectId())}):
            with self.subTest(query=query):
                response = self.client.get(POSTS, query_string={"cursor": cursor, "limit": 1, **query})
                self.assertError(response, 400, "invalid_cursor")

    def test_cursor_from_another_secret_is_400(self) -> None:
        for _ in range(3):
            self.post_of(status="published")
        settings = {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name, "SECRET_KEY": "another-" + "k" * 40}
        cursor = create_app("testing", settings).test_client().get(POSTS, query_string={"limit": 1})
        foreign = cursor.get_json()["next_cursor"]
        self.assertError(self.client.get(POSTS, query_string={"cursor": foreign, "limit": 1}), 400, "invalid_cursor")
