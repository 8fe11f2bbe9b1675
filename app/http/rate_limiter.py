"""The app's Flask-Limiter: built by `init_app` on the app's database, applied to the views that declared
limits with `@rate_limited` (app/http/rate_limits.py), answering over-limit requests in the error envelope.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial, wraps
from typing import Any

import limits
from flask import Flask, Response, after_this_request
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit

from app.http.errors import error_response
from app.http.rate_limit_storage import AppMongoStorage
from app.http.rate_limits import LIMIT_SETTINGS, Layer, View, client_address, rules_for
from config import ConfigError


def _too_many(rule: limits.RateLimitItem, reset_at: float) -> Response:
    """Answer a 429 in the error envelope, with the seconds until the window lets a request through."""
    wait = min(rule.get_expiry(), max(1, math.ceil(reset_at - time.time())))
    return error_response(429, "Too many requests; slow down.", headers={"Retry-After": str(wait)})


def _breach_response(limit: RequestLimit) -> Response:
    return _too_many(limit.limit, limit.reset_at)


def _counted_refusing_some(layer: Layer, limiter: Limiter, view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap `view` with a layer that counts every deducted request but refuses only `layer.refuse_when`'s.

    Flask-Limiter cannot express this (an exempt request is not counted either), so the layer is checked
    and counted here, on the same storage and moving windows.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not limiter.enabled or (layer.exempt_when is not None and layer.exempt_when()):
            return view(*args, **kwargs)
        strategy, key = limiter.limiter, layer.key()
        rules = limits.parse_many(rules_for(layer.setting))
        if layer.refuse_when is not None and layer.refuse_when():
            for rule in rules:
                if not strategy.test(rule, key, layer.name):
                    try:
                        reset_at = strategy.get_window_stats(rule, key, layer.name).reset_time
                    except TypeError:  # the window emptied in between (see address_failed_on_account)
                        reset_at = time.time()
                    return _too_many(rule, reset_at)

        @after_this_request
        def count(response: Response) -> Response:
            if layer.deduct_when is None or layer.deduct_when(response):
                for rule in rules:
                    strategy.hit(rule, key, layer.name)
            return response

        return view(*args, **kwargs)

    return wrapper


def _handle_breach(exc: RateLimitExceeded) -> Response:
    response = exc.get_response()
    return response if isinstance(response, Response) else error_response(429, "Too many requests; slow down.")


def _take_request_hooks(app: Flask, limiter: Limiter) -> Callable[..., Any]:
    """Take Flask-Limiter's app-wide after-request and teardown hooks off the app; return the first.

    Both run on every request, limited or not: 10 µs of the 78 a `GET /sample/add` costs in-process
    (docs/performance.md). The after-request hook deducts the `deduct_when` limits of the request's view,
    so the limited views register it for their own requests (`_deducting_after`); the teardown hook
    empties per-request state that goes with the request context anyway.
    """
    after = [hook for hook in app.after_request_funcs[None] if getattr(hook, "args", None) == (limiter,)]
    if len(after) != 1:  # a Flask-Limiter release that registers it differently: fail here, not silently
        raise RuntimeError(f"expected one after-request hook of Flask-Limiter, found {len(after)}")
    app.after_request_funcs[None].remove(after[0])
    teardown = app.teardown_request_funcs[None]
    teardown[:] = [hook for hook in teardown if getattr(hook, "__self__", None) is not limiter]
    return after[0]


def _deducting_after(hook: Callable[..., Any], view: View) -> View:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        after_this_request(hook)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    """Build the app's limiter on its database and wrap every view that declared limits."""
    for setting in LIMIT_SETTINGS:
        try:
            limits.parse_many(rules_for(setting, app.config))
        except ValueError as error:
            raise ConfigError(f"{setting}: {error}") from None
    limiter = Limiter(
        key_func=client_address,
        strategy="moving-window",
        storage_uri=f"{AppMongoStorage.STORAGE_SCHEME[0]}://",
        storage_options={"mongo": app.extensions["mongo"]},
        on_breach=_breach_response,
        headers_enabled=False,
    )
    limiter.init_app(app)
    # Every limit here is declared on a view, and a decorated view checks its own limits when called.
    # Flask-Limiter's before-request hook is for default and application-wide limits, which this app
    # has none of; yet it resolves and filters limits on every request, about 40 µs each, limited or not
    # (docs/performance.md). Without such limits, drop it.
    if not any(app.config.get(f"RATELIMIT_{name}") for name in ("DEFAULT", "APPLICATION", "META")):
        app.before_request_funcs[None].remove(limiter._check_request_limit)
    after = _take_request_hooks(app, limiter)
    app.extensions["rate_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, _handle_breach)
    for endpoint, view in list(app.view_functions.items()):
        wrapped: Callable[..., Any] = view
        for layer in getattr(view, "api_rate_limit", ()):
            if layer.refuse_when is not None:
                wrapped = _counted_refusing_some(layer, limiter, wrapped)
                continue
            # Shared: the layer's name, not the endpoint, scopes its counters (one budget across endpoints).
            wrapped = limiter.shared_limit(
                partial(rules_for, layer.setting),
                scope=layer.name,
                key_func=layer.key,
                deduct_when=layer.deduct_when,
                exempt_when=layer.exempt_when,
            )(wrapped)
        app.view_functions[endpoint] = _deducting_after(after, wrapped) if wrapped is not view else view
