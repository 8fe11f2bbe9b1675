"""Rate limits in layers, counted in MongoDB by Flask-Limiter with moving windows.

Every endpoint that hashes or checks a password is limited twice:
- per client address (`RATELIMIT_AUTH`): every such request counts, so the Argon2 work one address can
  cause is bounded, whatever account or endpoint it aims at;
- per account (`RATELIMIT_ACCOUNT`): only failed password checks count, from any address. Several
  windows ("5/minute;20/hour") make the delay grow with the failures; every window ends, so an attacker
  can slow a victim's logins down but never lock the account for good.

Views declare their layers with `@rate_limited(...)`; `init_app` builds one Flask-Limiter per app and
wraps those views with it. The counters live in the app's own database (collection
`rate_limit_windows`), through the app's one MongoClient, so every worker and host shares them.
See docs/security.md for the measurements behind the choice of Flask-Limiter and the moving window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import jwt
import limits
from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit
from limits.storage import MongoDBStorage
from pymongo import MongoClient
from pymongo.database import Database

from app.http.errors import error_response
from app.services.database import Mongo
from config import ConfigError
from controller.account_rules import email_key

View = TypeVar("View", bound=Callable[..., Any])
LIMIT_SETTINGS = ("RATELIMIT_AUTH", "RATELIMIT_ACCOUNT", "RATELIMIT_MAIL")
COUNTERS, WINDOWS = "rate_limit_counters", "rate_limit_windows"


class AppMongoStorage(MongoDBStorage):
    """limits' MongoDB storage on the app's own client and database, instead of a client of its own.

    It overrides the two properties through which `limits` (pinned) reaches MongoDB, so that the
    counters use the process's one client (rebuilt after a fork) and the app's database.
    """

    STORAGE_SCHEME = ["app-mongodb"]

    def __init__(self, uri: str, *, mongo: Mongo, **options: Any) -> None:
        super().__init__(uri, counter_collection_name=COUNTERS, window_collection_name=WINDOWS)
        self.mongo = mongo
        self.indexed: Database | None = None

    @property
    def storage(self) -> MongoClient:
        return self.mongo.client

    @property
    def _database(self) -> Database:
        database = self.mongo.db
        if self.indexed is not database:
            # A TTL index removes each window once it has run out.
            for name in (COUNTERS, WINDOWS):
                database[name].create_index("expireAt", name="ttl_expire_at", expireAfterSeconds=0)
            self.indexed = database
        return database

    def __del__(self) -> None:
        """Leave the shared client open: the app owns it."""


@dataclass(frozen=True)
class Layer:
    """One limit: the setting that holds its rules, what it counts by, and which requests it counts."""

    name: str
    setting: str
    key: Callable[[], str]
    deduct_when: Callable[[Response], bool] | None = None
    exempt_when: Callable[[], bool] | None = None


def client_address() -> str:
    """Return the client's address (the proxy-reported one when PROXY_COUNT trusts proxies)."""
    return request.remote_addr or "unknown"


def _json_body() -> dict[str, Any]:
    """Return the request's JSON object, or {} (validation answers the bad bodies later)."""
    body = request.get_json(silent=True, cache=True)
    return body if isinstance(body, dict) else {}


def login_account() -> str:
    """Return the account a login aims at: the normalised email of the body."""
    email = _json_body().get("email")
    return "email:" + (email_key(email) if isinstance(email, str) else "-")


def token_account() -> str:
    """Return the account of the bearer token (its subject, unverified).

    Only failed password checks count on this key, and those come after the token was verified, so
    a forged subject can at most be told 429 instead of 401.
    """
    _, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        subject = jwt.decode(token.strip(), options={"verify_signature": False}).get("sub")
    except jwt.InvalidTokenError:
        subject = None
    return "user:" + (subject if isinstance(subject, str) else "-")


def _status_is(status: int) -> Callable[[Response], bool]:
    return lambda response: response.status_code == status


def without_password() -> bool:
    """Tell whether the request body sets no new password (a name-only change checks no password)."""
    return "password" not in _json_body()


# The layers the API uses.
ADDRESS = Layer("password-work", "RATELIMIT_AUTH", client_address)
LOGIN_ACCOUNT = Layer("login-account", "RATELIMIT_ACCOUNT", login_account, deduct_when=_status_is(401))
TOKEN_ACCOUNT = Layer("password-check-account", "RATELIMIT_ACCOUNT", token_account, deduct_when=_status_is(403))
# Per address, on the endpoints that send mail or take a mailed token.
MAIL = Layer("mail", "RATELIMIT_MAIL", client_address)


def rate_limited(*layers: Layer, exempt_when: Callable[[], bool] | None = None) -> Callable[[View], View]:
    """Declare the limits of a view; over any of them is a 429 with Retry-After (applied by `init_app`)."""

    def decorator(view: View) -> View:
        chosen = tuple(Layer(**{**layer.__dict__, "exempt_when": exempt_when}) for layer in layers)
        view.api_rate_limit = chosen  # type: ignore[attr-defined]
        return view

    return decorator


def _rules(setting: str) -> str:
    rules: str = current_app.config[setting]
    return rules


def _breach_response(limit: RequestLimit) -> Response:
    """Answer a 429 in the error envelope, with the seconds until the window lets a request through."""
    wait = min(limit.limit.get_expiry(), max(1, math.ceil(limit.reset_at - time.time())))
    return error_response(429, "Too many requests; slow down.", headers={"Retry-After": str(wait)})


def _handle_breach(exc: RateLimitExceeded) -> Response:
    response = exc.get_response()
    return response if isinstance(response, Response) else error_response(429, "Too many requests; slow down.")


def init_app(app: Flask) -> None:
    """Build the app's limiter on its database and wrap every view that declared limits."""
    for setting in LIMIT_SETTINGS:
        try:
            limits.parse_many(app.config[setting])
        except ValueError as error:
            raise ConfigError(f"{setting}: {error}") from None
    limiter = Limiter(
        key_func=client_address,
        strategy="moving-window",
        storage_uri="app-mongodb://",
        storage_options={"mongo": app.extensions["mongo"]},
        on_breach=_breach_response,
        headers_enabled=False,
    )
    limiter.init_app(app)
    app.extensions["rate_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _handle_breach)
    for endpoint, view in list(app.view_functions.items()):
        wrapped: Callable[..., Any] = view
        for layer in getattr(view, "api_rate_limit", ()):
            # Shared: the layer's name, not the endpoint, scopes its counters (one budget across endpoints).
            wrapped = limiter.shared_limit(
                partial(_rules, layer.setting),
                scope=layer.name,
                key_func=layer.key,
                deduct_when=layer.deduct_when,
                exempt_when=layer.exempt_when,
            )(wrapped)
        app.view_functions[endpoint] = wrapped
