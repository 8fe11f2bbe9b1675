"""Posts through the API: every rule of ownership, visibility and state (listing: test_posts_listing)."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from tests.base import ApiTestCase
from tests.utils.factories import make_post

POSTS = "/api/v1/posts"


class PostsApiTestCase(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.owner = self.make_user(name="Owner")
        self.other = self.make_user(name="Other")
        self.admin = self.make_user(name="Admin", role="admin")
        self.as_owner = self.headers_for(self.owner)
        self.as_other = self.headers_for(self.other)
        self.as_admin = self.headers_for(self.admin)

    def post_of(self, owner: Any = None, **fields: Any) -> dict[str, Any]:
        return make_post(self.db, owner or self.owner, **fields)


class CreatePostApiTest(PostsApiTestCase):
    def test_create_post_returns_201_with_location_and_draft_default(self) -> None:
        body = {"title": " Hello ", "body": "World", "tags": ["Python", "python", " mongo "]}
        response = self.client.post(POSTS, json=body, headers=self.as_owner)
        self.assertEqual(response.status_code, 201, response.get_data(as_text=True))
        created = response.get_json()
        self.assertEqual(created["title"], "Hello")
        self.assertEqual(created["tags"], ["python", "mongo"])
        self.assertEqual((created["status"], created["published_at"]), ("draft", None))
        self.assertEqual(created["author_id"], str(self.owner["_id"]))
        self.assertTrue(response.headers["Location"].endswith(f"{POSTS}/{created['id']}"))
        self.assertEqual(self.client.get(response.headers["Location"], headers=self.as_owner).get_json(), created)

    def test_create_published_post_stamps_published_at(self) -> None:
        body = {"title": "T", "body": "B", "status": "published"}
        created = self.client.post(POSTS, json=body, headers=self.as_owner).get_json()
        self.assertIsNotNone(created["published_at"])

    def test_create_post_without_token_is_401(self) -> None:
        self.assertError(self.client.post(POSTS, json={"title": "T", "body": "B"}), 401)
        self.assertEqual(self.db.posts.count_documents({}), 0)

    def test_create_post_cannot_set_owner_or_timestamps(self) -> None:
        for extra in ({"owner_id": str(self.other["_id"])}, {"author_id": "x"}, {"created_at": "2020-01-01"}):
            with self.subTest(extra=extra):
                body = {"title": "T", "body": "B", **extra}
                self.assertError(self.client.post(POSTS, json=body, headers=self.as_owner), 400, "validation_error")
        self.assertEqual(self.db.posts.count_documents({}), 0)

    def test_create_post_with_invalid_fields_is_400(self) -> None:
        cases = {
            "title": [{"title": ""}, {"title": "   "}, {"title": "x" * 201}, {"title": 5}],
            "body": [{"body": ""}, {"body": "x" * 20001}, {"body": ["b"]}],
            "tags": [{"tags": "python"}, {"tags": [1]}, {"tags": ["a b"]}, {"tags": [f"t{i}" for i in range(11)]}],
            "status": [{"status": "archived"}, {"status": None, "title": None}],
        }
        for field, bodies in cases.items():
            for body in bodies:
                with self.subTest(body=body):
                    full = {"title": "T", "body": "B", **body}
                    error = self.assertError(self.client.post(POSTS, json=full, headers=self.as_owner), 400)
                    self.assertTrue(set(error.get("fields", {})) & {field, "title"}, error)
        self.assertEqual(self.db.posts.count_documents({}), 0)


class ReadPostApiTest(PostsApiTestCase):
    def test_published_post_is_public(self) -> None:
        published = self.post_of(status="published")
        response = self.client.get(f"{POSTS}/{published['id']}")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.get_json()["id"], str(published["id"]))

    def test_draft_is_visible_to_owner_and_admin_only(self) -> None:
        draft = self.post_of()
        url = f"{POSTS}/{draft['id']}"
        self.assertEqual(self.client.get(url, headers=self.as_owner).status_code, 200)
        self.assertEqual(self.client.get(url, headers=self.as_admin).status_code, 200)
        self.assertError(self.client.get(url, headers=self.as_other), 404, "not_found")
        self.assertError(self.client.get(url), 404, "not_found")

    def test_unknown_or_malformed_id_is_404(self) -> None:
        for post_id in (str(ObjectId()), "123", "g" * 24, "a" * 25):
            with self.subTest(post_id=post_id):
                self.assertError(self.client.get(f"{POSTS}/{post_id}"), 404, "not_found")

    def test_invalid_token_on_public_read_is_still_401(self) -> None:
        published = self.post_of(status="published")
        response = self.client.get(f"{POSTS}/{published['id']}", headers={"Authorization": "Bearer junk"})
        self.assertError(response, 401, "invalid_token")


class UpdatePostApiTest(PostsApiTestCase):
    def test_owner_and_admin_can_update(self) -> None:
        published = self.post_of(status="published")
        for headers, title in ((self.as_owner, "By owner"), (self.as_admin, "By admin")):
            response = self.client.patch(f"{POSTS}/{published['id']}", json={"title": title}, headers=headers)
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.get_json()["title"], title)

    def test_other_user_gets_403_on_published_and_404_on_draft(self) -> None:
        published, draft = self.post_of(status="published"), self.post_of()
        patch = {"title": "Hijacked"}
        self.assertError(self.client.patch(f"{POSTS}/{published['id']}", json=patch, headers=self.as_other), 403)
        self.assertError(self.client.patch(f"{POSTS}/{draft['id']}", json=patch, headers=self.as_other), 404)
        self.assertNotEqual(self.db.posts.find_one({"_id": published["id"]})["title"], "Hijacked")

    def test_publishing_a_draft_stamps_published_at(self) -> None:
        draft = self.post_of()
        response = self.client.patch(f"{POSTS}/{draft['id']}", json={"status": "published"}, headers=self.as_owner)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.get_json()["status"], "published")
        self.assertIsNotNone(response.get_json()["published_at"])

    def test_published_post_cannot_go_back_to_draft(self) -> None:
        published = self.post_of(status="published")
        response = self.client.patch(f"{POSTS}/{published['id']}", json={"status": "draft"}, headers=self.as_owner)
        self.assertError(response, 409, "invalid_transition")

    def test_update_with_nothing_or_bad_fields_is_400(self) -> None:
        draft = self.post_of()
        url = f"{POSTS}/{draft['id']}"
        self.assertError(self.client.patch(url, json={}, headers=self.as_owner), 400, "nothing_to_change")
        for body in ({"title": ""}, {"owner_id": "x"}, {"tags": "x"}, {"status": "gone"}):
            with self.subTest(body=body):
                self.assertError(self.client.patch(url, json=body, headers=self.as_owner), 400)

    def test_update_without_token_is_401(self) -> None:
        draft = self.post_of()
        self.assertError(self.client.patch(f"{POSTS}/{draft['id']}", json={"title": "x"}), 401)


class DeletePostApiTest(PostsApiTestCase):
    def test_owner_deletes_with_204(self) -> None:
        draft = self.post_of()
        response = self.client.delete(f"{POSTS}/{draft['id']}", headers=self.as_owner)
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response.data, b"")
        self.assertNotIn("Content-Type", response.headers)  # no body, so no type (not text/html)
        self.assertError(self.client.get(f"{POSTS}/{draft['id']}", headers=self.as_owner), 404)

    def test_admin_deletes_anyones_post(self) -> None:
        published = self.post_of(status="published")
        self.assertEqual(self.client.delete(f"{POSTS}/{published['id']}", headers=self.as_admin).status_code, 204)

    def test_other_user_cannot_delete(self) -> None:
        published = self.post_of(status="published")
        self.assertError(self.client.delete(f"{POSTS}/{published['id']}", headers=self.as_other), 403, "forbidden")
        self.assertEqual(self.db.posts.count_documents({}), 1)

    def test_delete_unknown_post_is_404(self) -> None:
        self.assertError(self.client.delete(f"{POSTS}/{ObjectId()}", headers=self.as_owner), 404)
