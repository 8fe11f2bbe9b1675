"""Rate limits in layers, counted in MongoDB by Flask-Limiter with moving windows.

Every endpoint that hashes or checks a password is limited per client address (`RATELIMIT_AUTH`):
every such request counts, so the Argon2 work one address can cause is bounded, whatever account or
endpoint it aims at. Failed logins are also counted:
- per (account, address) (`RATELIMIT_ACCOUNT`): several windows ("5/minute;20/hour") make the delay
  grow with one address's failures on one account; other addresses are not affected;
- per account, from every address (`RATELIMIT_LOGIN_ACCOUNT`, much looser): over it, the addresses that
  have already failed on this account are refused; an address that has not is never refused by it, so
  distributed guessing costs a fresh address per guess while the owner can still sign in.

Views declare their layers with `@rate_limited(...)`; `rate_limiter.init_app` builds one Flask-Limiter per app and
wraps those views with it. The counters live in the app's own database (collection
`rate_limit_windows`), through the app's one MongoClient, so every worker and host shares them.
See docs/security.md for the measurements behind the choice of Flask-Limiter and the moving window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import jwt
import limits
from flask import Response, current_app, request

from controller.account_rules import email_key

View = TypeVar("View", bound=Callable[..., Any])
LIMIT_SETTINGS = (
    "RATELIMIT_AUTH",
    "RATELIMIT_ACCOUNT",
    "RATELIMIT_MAIL",
    "RATELIMIT_LOGIN_ACCOUNT",
    "RATELIMIT_MAIL_RECIPIENT",
)


@dataclass(frozen=True)
class Layer:
    """One limit: the setting that holds its rules, what it counts by, and which requests it counts."""

    name: str
    setting: str
    key: Callable[[], str]
    deduct_when: Callable[[Response], bool] | None = None
    exempt_when: Callable[[], bool] | None = None
    # When set, the layer counts every request it deducts for, but refuses only those this picks.
    refuse_when: Callable[[], bool] | None = None


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


def login_pair() -> str:
    """Return the pair a failed login counts against: the account aimed at, from this address."""
    return f"{login_account()} from:{client_address()}"


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


def address_failed_on_account() -> bool:
    """Tell whether this address has a failed login on the account in any window of the pair layer."""
    strategy = current_app.extensions["rate_limiter"].limiter
    key = login_pair()
    # A test at the full cost passes only on an empty window. (get_window_stats fails on a stored
    # window whose entries have all aged out: limits 5.8 adds its None start to the expiry.)
    return any(
        not strategy.test(rule, key, LOGIN_PAIR.name, cost=rule.amount)
        for rule in limits.parse_many(rules_for(LOGIN_PAIR.setting))
    )


# The layers the API uses.
ADDRESS = Layer("password-work", "RATELIMIT_AUTH", client_address)
LOGIN_PAIR = Layer("login-account-address", "RATELIMIT_ACCOUNT", login_pair, deduct_when=_status_is(401))
LOGIN_ACCOUNT = Layer(
    "login-account",
    "RATELIMIT_LOGIN_ACCOUNT",
    login_account,
    deduct_when=_status_is(401),
    refuse_when=address_failed_on_account,
)
TOKEN_ACCOUNT = Layer("password-check-account", "RATELIMIT_ACCOUNT", token_account, deduct_when=_status_is(403))
# Per address, on the endpoints that send mail or take a mailed token.
MAIL = Layer("mail", "RATELIMIT_MAIL", client_address)


def rate_limited(*layers: Layer, exempt_when: Callable[[], bool] | None = None) -> Callable[[View], View]:
    """Declare the limits of a view; over any of them is a 429 with Retry-After (applied by `rate_limiter.init_app`)."""

    def decorator(view: View) -> View:
        chosen = tuple(Layer(**{**layer.__dict__, "exempt_when": exempt_when or layer.exempt_when}) for layer in layers)
        view.api_rate_limit = chosen  # type: ignore[attr-defined]
        return view

    return decorator


def rules_for(setting: str, config: Mapping[str, Any] | None = None) -> str:
    """Return the rules of a limit setting (its default when config.py does not define it)."""
    rules: str = (current_app.config if config is None else config)[setting]
    return rules
