"""The application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from flask_cors import CORS

from app import api, cli
from app.http import errors, middleware, rate_limiter, security
from app.http.body_limit import BodyLimit
from app.http.converters import ObjectIdConverter
from app.http.json_provider import OrjsonProvider
from app.http.proxy import TrustedProxyFix, parse_networks
from app.http.routing import ApiFlask
from app.services import database, jobs, json_logging, mail
from app.site import docs, ops, pages
from app.version import __version__ as __version__
from config import DEV_SECRET_KEY, ConfigError, get_config


class StatelessSessions(SessionInterface):
    """No cookie sessions: the API authenticates each request with a bearer token.

    Flask would otherwise read and sign a session cookie on every request; writing to `session` now
    fails loudly instead.
    """

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def create_app(config_name: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app for `config_name` (development, testing or production; default development).

    `overrides` replaces settings after they are read from the environment (tests use it).
    Raises `config.ConfigError` listing every setting that is missing or invalid, one line each.
    """
    config_class = get_config(config_name)
    settings, problems = config_class.read(os.environ)
    settings.update(overrides or {})
    problems += config_class.check(settings)
    if problems:
        raise ConfigError(*problems)
    app = ApiFlask(__name__, template_folder="site/templates", static_folder="site/static")
    app.config.from_mapping(settings)
    app.json = OrjsonProvider(app)
    app.session_interface = StatelessSessions()

    json_logging.init_app(app)
    if not app.config["SECRET_KEY"]:
        # Only development and tests get here: production's check refuses an empty secret.
        app.config["SECRET_KEY"] = DEV_SECRET_KEY
        app.logger.warning("SECRET_KEY is not set: using the public development key (never in production)")
    database.init_app(app)
    mail.init_app(app)
    jobs.init_app(app)
    if app.config["MAX_CONTENT_LENGTH"]:
        app.wsgi_app = BodyLimit(app.wsgi_app, max_bytes=app.config["MAX_CONTENT_LENGTH"])  # type: ignore[method-assign]
    middleware.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    app.url_map.converters["objectid"] = ObjectIdConverter
    api.init_app(app)
    rate_limiter.init_app(app)  # after the blueprints: it wraps the views that declared limits
    app.register_blueprint(ops.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(pages.bp)
    if app.config["CORS_ORIGINS"]:
        CORS(
            app,
            resources={r"/api/*": {"origins": list(app.config["CORS_ORIGINS"])}},
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"],
            expose_headers=["X-Request-ID", "Retry-After", "Location", "Idempotent-Replayed"],
            max_age=600,
        )
    if app.config["PROXY_COUNT"]:
        # Trust exactly this many proxies, and only requests that come from one of them; with none,
        # X-Forwarded-For cannot spoof the client address.
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, hops=app.config["PROXY_COUNT"], networks=parse_networks(app.config["TRUSTED_PROXIES"])
        )
    cli.init_app(app)
    return app
