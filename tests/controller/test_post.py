"""The post controller: ownership, visibility, state and pagination rules, without an app."""

from __future__ import annotations

from bson import ObjectId

from controller import post
from controller.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from model.mongodb import Post, User
from tests.base import DatabaseTestCase
from tests.utils.factories import CURSOR_KEY, auth_settings, identity_of, make_post, make_user


class PostControllerTest(DatabaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        settings = auth_settings()
        self.owner = make_user(self.db, settings)
        self.other = make_user(self.db, settings)
        self.admin = make_user(self.db, settings, role="admin")

    def test_create_racing_the_owners_account_deletion_leaves_no_orphan_post(self) -> None:
        # The request authenticated, then the account and its posts were deleted (DELETE /users/me), then
        # its insert ran: the post is taken back and the request refused.
        caller = identity_of(self.owner)
        User(self.db).delete(self.owner["_id"])
        Post(self.db).delete_by_owner(self.owner["_id"])
        for post_id in (None, ObjectId()):  # a plain create, and one with an idempotency-reserved id
            with self.subTest(post_id=post_id), self.assertRaises(Unauthorized):
                post.create_post(self.db, caller, title="Late", body="Text", status="published", post_id=post_id)
        self.assertEqual(self.db.posts.count_documents({"owner_id": self.owner["_id"]}), 0)

    def test_create_normalises_tags_and_sets_owner(self) -> None:
        created = make_post(self.db, self.owner, tags=["Go", " go", "web-dev"])
        self.assertEqual(created["tags"], ["go", "web-dev"])
        self.assertEqual(created["author_id"], self.owner["_id"])
        self.assertIsNone(created["published_at"])

    def test_create_rejects_blank_text_bad_tags_and_status(self) -> None:
        bad = [{"title": "  "}, {"body": ""}, {"tags": ["ok", "not ok"]}, {"tags": [str(i) for i in range(11)]}]
        bad.append({"status": "archived"})
        for fields in bad:
            with self.subTest(fields=fields), self.assertRaises(InvalidInput):
                make_post(self.db, self.owner, **fields)

    def test_draft_is_hidden_from_others_and_anonymous(self) -> None:
        draft = make_post(self.db, self.owner)
        for viewer in (None, identity_of(self.other)):
            with self.subTest(viewer=viewer), self.assertRaises(NotFound):
                post.get_post(self.db, viewer, draft["id"])
        self.assertEqual(post.get_post(self.db, identity_of(self.admin), draft["id"])["id"], draft["id"])

    def test_only_owner_or_admin_may_change_or_delete(self) -> None:
        published = make_post(self.db, self.owner, status="published")
        with self.assertRaises(Forbidden):
            post.update_post(self.db, identity_of(self.other), published["id"], title="x")
        with self.assertRaises(Forbidden):
            post.delete_post(self.db, identity_of(self.other), published["id"])
        self.assertEqual(post.update_post(self.db, identity_of(self.admin), published["id"], title="A")["title"], "A")
        post.delete_post(self.db, identity_of(self.owner), published["id"])
        with self.assertRaises(NotFound):
            post.delete_post(self.db, identity_of(self.owner), published["id"])

    def test_state_transitions(self) -> None:
        draft = make_post(self.db, self.owner)
        published = post.update_post(self.db, identity_of(self.owner), draft["id"], status="published")
        self.assertIsNotNone(published["published_at"])
        with self.assertRaises(Conflict):
            post.update_post(self.db, identity_of(self.owner), draft["id"], status="draft")
        same = post.update_post(self.db, identity_of(self.owner), draft["id"], status="published", title="New")
        self.assertEqual(same["published_at"], published["published_at"])

    def test_update_with_nothing_to_change_is_invalid(self) -> None:
        draft = make_post(self.db, self.owner)
        with self.assertRaises(InvalidInput):
            post.update_post(self.db, identity_of(self.owner), draft["id"])
        with self.assertRaises(InvalidInput):
            post.update_post(self.db, identity_of(self.owner), draft["id"], status="draft")

    def test_update_of_unknown_post_is_not_found(self) -> None:
        with self.assertRaises(NotFound):
            post.update_post(self.db, identity_of(self.owner), ObjectId(), title="x")

    def test_list_pages_with_cursor(self) -> None:
        made = [make_post(self.db, self.owner, status="published")["id"] for _ in range(5)]
        first = post.list_posts(self.db, cursor_key=CURSOR_KEY, limit=2)
        self.assertEqual([p["id"] for p in first["items"]], made[:-3:-1])
        second = post.list_posts(self.db, cursor_key=CURSOR_KEY, limit=2, cursor=first["next_cursor"])
        self.assertEqual([p["id"] for p in second["items"]], made[2:0:-1])
        last = post.list_posts(self.db, cursor_key=CURSOR_KEY, limit=2, cursor=second["next_cursor"])
        self.assertEqual(([p["id"] for p in last["items"]], last["next_cursor"]), ([made[0]], None))

    def test_list_rejects_bad_arguments(self) -> None:
        for arguments in ({"sort": "random"}, {"limit": 0}, {"limit": 101}, {"author_id": "zz"}, {"cursor": "%%"}):
            with self.subTest(arguments=arguments), self.assertRaises(InvalidInput):
                post.list_posts(self.db, cursor_key=CURSOR_KEY, **arguments)
