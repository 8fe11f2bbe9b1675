"""The floor: the three endpoints in bare Flask + pymongo, validated by hand, no middleware.

`gunicorn 'bench.peers.flask_app:create_app()'` serves it. Same checks and database work as the project;
none of its request ids, logs, metrics, security headers or error envelope.
"""

from __future__ import annotations

import os
import re
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from flask import Flask, abort, jsonify, request

from bench.peers.common import MAX_SAFE, STATUSES, TAG_PATTERN, Unauthorized, authenticate, database, new_post, shown

_TAG = re.compile(TAG_PATTERN)


def _text(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        abort(422, f"{name} must be 1-{limit} characters")
    return value


def create_app() -> Flask:
    """Build the app on MONGODB_URI / MONGODB_DB, verifying tokens with SECRET_KEY."""
    app = Flask(__name__)
    db = database()
    secret = os.environ["SECRET_KEY"]

    @app.errorhandler(Unauthorized)
    def unauthorized(error: Unauthorized) -> tuple[dict[str, str], int]:
        return {"error": str(error)}, 401

    @app.get("/api/v1/sample/add")
    def add_numbers() -> dict[str, Any]:
        a, b = request.args.get("a", type=int), request.args.get("b", type=int)
        if a is None or b is None or not (abs(a) <= MAX_SAFE and abs(b) <= MAX_SAFE and abs(a + b) <= MAX_SAFE):
            abort(422, "a and b must be integers within ±(2^53-1), and so must their sum")
        return {"result": a + b}

    @app.get("/api/v1/posts/<post_id>")
    def get_post(post_id: str) -> dict[str, Any]:
        try:
            post = db.posts.find_one({"_id": ObjectId(post_id), "status": "published"})
        except InvalidId:
            post = None
        if post is None:
            abort(404)
        return shown(post)

    @app.post("/api/v1/posts")
    def create_post() -> Any:
        owner_id = authenticate(db, secret, request.headers.get("Authorization"))
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            abort(400, "a JSON object is required")
        tags = body.get("tags") or []
        if not isinstance(tags, list) or len(tags) > 10 or not all(isinstance(t, str) and _TAG.match(t) for t in tags):
            abort(422, "tags must be at most 10 short words")
        status = body.get("status", "draft")
        if status not in STATUSES:
            abort(422, "status must be draft or published")
        post = new_post(owner_id, _text(body, "title", 200), _text(body, "body", 20000), tags, status)
        db.posts.insert_one(post)
        response = jsonify(shown(post))
        response.status_code, response.headers["Location"] = 201, f"/api/v1/posts/{post['_id']}"
        return response

    return app
