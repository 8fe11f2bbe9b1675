"""The reference: the benchmarked endpoints written the shortest honest way, in a bare Flask app.

Same work as the boilerplate's endpoints (same queries, same JWT check including the one revocation
lookup), none of its middleware: no request ids, logs, metrics, security headers, validation or error
envelope. `gunicorn 'bench.reference_app:create_app()'` serves it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import jwt
from bson import ObjectId
from flask import Flask, request
from pymongo import MongoClient


def create_app() -> Flask:
    """Build the reference app on MONGODB_URI / MONGODB_DB, verifying tokens with SECRET_KEY."""
    app = Flask(__name__)
    db = MongoClient(os.environ["MONGODB_URI"], connect=False, tz_aware=True)[os.environ["MONGODB_DB"]]
    secret = os.environ["SECRET_KEY"]

    def shown(post: dict[str, Any]) -> dict[str, Any]:
        return {**post, "_id": str(post["_id"]), "owner_id": str(post["owner_id"])}

    @app.get("/api/v1/sample/add")
    def add_numbers() -> dict[str, Any]:
        return {"result": int(request.args["a"]) + int(request.args["b"])}

    @app.get("/api/v1/posts/<post_id>")
    def get_post(post_id: str) -> dict[str, Any]:
        return shown(db.posts.find_one({"_id": ObjectId(post_id)}) or {})

    @app.post("/api/v1/posts")
    def create_post() -> tuple[dict[str, Any], int]:
        claims = jwt.decode(request.headers["Authorization"][7:], secret, algorithms=["HS256"])
        keys = [f"sid:{claims['sid']}", f"fam:{claims['fam']}", f"user:{claims['sub']}"]
        if db.revoked_tokens.find_one({"_id": {"$in": keys}}):
            return {"error": "revoked"}, 401
        body, now = request.get_json(), datetime.now(UTC)
        post = {
            "title": body["title"],
            "body": body["body"],
            "tags": [],
            "status": "draft",
            "published_at": None,
            "owner_id": ObjectId(claims["sub"]),
            "schema_version": 1,
            "created_at": now,
            "updated_at": now,
        }
        db.posts.insert_one(post)
        return shown(post), 201

    return app
