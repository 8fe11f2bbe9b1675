"""The three endpoints in FastAPI with pydantic v2 models, as its documentation writes them.

`gunicorn -k uvicorn_worker.UvicornWorker 'bench.peers.fastapi_app:create_app()'` serves it (uvicorn with
httptools and uvloop). Handlers are plain `def`, as FastAPI advises for blocking pymongo calls: they run in
its thread pool. No `from __future__ import annotations`: FastAPI reads the annotations of the nested
handlers at run time.
"""

import os
from datetime import datetime
from typing import Annotated, Literal

from bson import ObjectId
from bson.errors import InvalidId
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from bench.peers.common import MAX_SAFE, TAG_PATTERN, Unauthorized, authenticate, database, new_post, shown

Operand = Annotated[int, Query(ge=-MAX_SAFE, le=MAX_SAFE)]
Tag = Annotated[str, StringConstraints(pattern=TAG_PATTERN)]


class AddResult(BaseModel):
    result: int


class PostIn(BaseModel):
    title: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
    body: Annotated[str, StringConstraints(min_length=1, max_length=20000, pattern=r"\S")]
    tags: list[Tag] = Field(default_factory=list, max_length=10)
    status: Literal["draft", "published"] = "draft"


class PostOut(BaseModel):
    id: str
    title: str
    body: str
    tags: list[str]
    status: str
    author_id: str
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime


def create_app() -> FastAPI:
    """Build the app on MONGODB_URI / MONGODB_DB, verifying tokens with SECRET_KEY."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    db = database()
    secret = os.environ["SECRET_KEY"]

    def current_user(authorization: Annotated[str | None, Header()] = None) -> ObjectId:
        return authenticate(db, secret, authorization)

    @app.exception_handler(Unauthorized)
    def unauthorized(request: Request, error: Unauthorized) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=401)

    @app.get("/api/v1/sample/add")
    def add_numbers(a: Operand, b: Operand) -> AddResult:
        if abs(a + b) > MAX_SAFE:
            raise HTTPException(422, "the result is beyond ±(2^53-1)")
        return AddResult(result=a + b)

    @app.get("/api/v1/posts/{post_id}")
    def get_post(post_id: str) -> PostOut:
        try:
            post = db.posts.find_one({"_id": ObjectId(post_id), "status": "published"})
        except InvalidId:
            post = None
        if post is None:
            raise HTTPException(404)
        return PostOut(**shown(post))

    @app.post("/api/v1/posts", status_code=201)
    def create_post(data: PostIn, response: Response, owner_id: Annotated[ObjectId, Depends(current_user)]) -> PostOut:
        post = new_post(owner_id, data.title, data.body, data.tags, data.status)
        db.posts.insert_one(post)
        response.headers["Location"] = f"/api/v1/posts/{post['_id']}"
        return PostOut(**shown(post))

    return app
