"""The versioned JSON API: one blueprint per resource, mounted under /api/v1."""

from __future__ import annotations

from flask import Blueprint, Flask

from app.api import account, auth, posts, sample, users

API_PREFIX = "/api/v1"
# The blueprint module of every resource, mounted in this order.
RESOURCES = (
    sample,
    auth,
    users,
    account,
    posts,
    # flask scaffold adds new resources above this line
)


def init_app(app: Flask) -> None:
    """Mount every API blueprint on `app`."""
    api = Blueprint("api", __name__, url_prefix=API_PREFIX)
    for module in RESOURCES:
        api.register_blueprint(module.bp)
    app.register_blueprint(api)
