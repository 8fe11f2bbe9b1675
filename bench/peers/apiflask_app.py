"""The three endpoints in APIFlask, validated and serialised by marshmallow schemas.

`gunicorn 'bench.peers.apiflask_app:create_app()'` serves it, with the same gunicorn.conf.py as the project.
"""

from __future__ import annotations

import os
from typing import Any

from apiflask import APIFlask, HTTPError, Schema, abort
from apiflask.fields import DateTime, Integer, List, String
from apiflask.validators import Length, OneOf, Range, Regexp
from bson import ObjectId
from bson.errors import InvalidId
from flask import request
from marshmallow import ValidationError, validates_schema

from bench.peers.common import MAX_SAFE, STATUSES, TAG_PATTERN, Unauthorized, authenticate, database, new_post, shown

NOT_BLANK = Regexp(r"\S")


class AddQuery(Schema):
    a = Integer(required=True, validate=Range(-MAX_SAFE, MAX_SAFE))
    b = Integer(required=True, validate=Range(-MAX_SAFE, MAX_SAFE))

    @validates_schema
    def sum_in_range(self, data: dict[str, int], **kwargs: Any) -> None:
        if abs(data["a"] + data["b"]) > MAX_SAFE:
            raise ValidationError("the result is beyond ±(2^53-1)")


class AddResult(Schema):
    result = Integer()


class PostIn(Schema):
    title = String(required=True, validate=[Length(1, 200), NOT_BLANK])
    body = String(required=True, validate=[Length(1, 20000), NOT_BLANK])
    tags = List(String(validate=Regexp(TAG_PATTERN)), validate=Length(max=10), load_default=list)
    status = String(load_default="draft", validate=OneOf(STATUSES))


class PostOut(Schema):
    id = String()
    title = String()
    body = String()
    tags = List(String())
    status = String()
    author_id = String()
    published_at = DateTime(allow_none=True)
    created_at = DateTime()
    updated_at = DateTime()


def create_app() -> APIFlask:
    """Build the app on MONGODB_URI / MONGODB_DB, verifying tokens with SECRET_KEY."""
    app = APIFlask(__name__, spec_path=None, docs_path=None)
    db = database()
    secret = os.environ["SECRET_KEY"]

    @app.errorhandler(Unauthorized)
    def unauthorized(error: Unauthorized) -> Any:
        return app.error_callback(HTTPError(401, str(error)))

    @app.get("/api/v1/sample/add")
    @app.input(AddQuery, location="query", arg_name="query")
    @app.output(AddResult)
    def add_numbers(query: dict[str, int]) -> dict[str, int]:
        return {"result": query["a"] + query["b"]}

    @app.get("/api/v1/posts/<post_id>")
    @app.output(PostOut)
    def get_post(post_id: str) -> dict[str, Any]:
        try:
            post = db.posts.find_one({"_id": ObjectId(post_id), "status": "published"})
        except InvalidId:
            post = None
        if post is None:
            abort(404)
        return shown(post)

    @app.post("/api/v1/posts")
    @app.input(PostIn, arg_name="data")
    @app.output(PostOut, status_code=201)
    def create_post(data: dict[str, Any]) -> Any:
        owner_id = authenticate(db, secret, request.headers.get("Authorization"))
        post = new_post(owner_id, data["title"], data["body"], data["tags"], data["status"])
        db.posts.insert_one(post)
        return shown(post), 201, {"Location": f"/api/v1/posts/{post['_id']}"}

    return app
