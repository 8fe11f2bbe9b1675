"""Settings for each environment.

Every upper-case attribute of a config class is a setting. Its value is the class default unless an
environment variable of the same name is set, in which case that value is parsed to the default's
type. Nothing is read at import time: `create_app` reads the environment, then checks the meaning of
every setting (`config_checks.py`) and reports all problems at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from config_checks import DEV_SECRET_KEY, MIN_SECRET_LENGTH, PLACEHOLDER_SECRETS, ConfigError, check_settings

__all__ = [
    "DEV_SECRET_KEY",
    "MIN_SECRET_LENGTH",
    "PLACEHOLDER_SECRETS",
    "Config",
    "ConfigError",
    "DevelopmentConfig",
    "ProductionConfig",
    "TestingConfig",
    "config",
    "get_config",
]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def _parse(name: str, raw: str, default: Any) -> Any:
    """Convert the environment string `raw` to the type of the setting's default."""
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    if isinstance(default, int | float):
        if not raw.strip():
            return default  # `NAME=` in .env means "not set"
        try:
            return type(default)(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a {type(default).__name__}, got {raw!r}") from None
    if isinstance(default, tuple):
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    return raw or None


class Config:
    """Settings shared by every environment."""

    # Settings that come from the class alone; the environment may not override them.
    fixed_settings: ClassVar[frozenset[str]] = frozenset({"ENV_NAME", "DEBUG", "TESTING"})

    ENV_NAME = "base"
    APP_NAME = "Flask MongoDB API"
    SECRET_KEY: str | None = DEV_SECRET_KEY
    DEBUG = False
    TESTING = False

    # MongoDB. With no URI, development and tests start an embedded server (see README).
    MONGODB_URI: str | None = None
    MONGODB_DB: str | None = None  # wins over the database named in the URI; default "app"
    MONGODB_TIMEOUT_MS = 2000  # budget of one database operation, server selection and retries included
    MONGODB_WRITE_CONCERN = "majority"
    # Circuit breaker: after this many consecutive "unreachable" failures a worker answers 503 at once,
    # and pings the server in the background once per probe interval until it answers.
    MONGODB_BREAKER_THRESHOLD = 1
    MONGODB_BREAKER_PROBE_MS = 500

    # Tokens: short-lived access tokens, long-lived single-use refresh tokens.
    ACCESS_TOKEN_TTL_S = 900
    REFRESH_TOKEN_TTL_S = 14 * 24 * 3600
    # A refresh token presented again within this many seconds (a retry, two tabs) gets the pair already
    # issued for it; later reuse is treated as theft and ends the login.
    REFRESH_REUSE_GRACE_S = 30
    # Argon2id cost (argon2-cffi's defaults, RFC 9106's low-memory profile): about 50 ms a hash.
    PASSWORD_HASH_TIME_COST = 3
    PASSWORD_HASH_MEMORY_KIB = 65536
    PASSWORD_HASH_PARALLELISM = 4
    # Rate limits (moving windows, counted in MongoDB so that every worker and host shares them).
    RATELIMIT_ENABLED = True
    # Per client address: every request that hashes or checks a password (signup, login, password change,
    # account deletion) counts, which bounds the Argon2 work one address can cause.
    RATELIMIT_AUTH = "10/minute"
    # Per account, from any address: failed password checks only. Several windows make the delay grow;
    # every window ends, so an attacker can slow an account's logins down but never lock it for good.
    RATELIMIT_ACCOUNT = "5/minute;20/hour"
    # Per account from all addresses, looser: over it, only addresses that already failed on the account
    # are refused, so the owner logging in from elsewhere is never locked out.
    RATELIMIT_LOGIN_ACCOUNT = "30/minute;100/hour"
    EMAIL_CHECK_DELIVERABILITY = False  # look the email's domain up in DNS at sign-up
    # Per client address, on the endpoints that send mail (password reset, verification, e-mail change).
    RATELIMIT_MAIL = "5/minute"
    # Per recipient address: mails over it are not sent (the answer stays the same), so nobody is mail-bombed.
    RATELIMIT_MAIL_RECIPIENT = "3/hour;10/day"

    # Accounts: login refuses addresses not yet verified; lifetimes of the tokens sent by mail.
    REQUIRE_VERIFIED_EMAIL = False
    EMAIL_VERIFICATION_TTL_S = 48 * 3600
    EMAIL_CHANGE_TTL_S = 24 * 3600
    # The frontend's URL: links in mails point there (e.g. {PUBLIC_BASE_URL}/reset-password?token=...).
    PUBLIC_BASE_URL = "http://localhost:5000"

    # Mail (the names Flask-Mail uses). Without MAIL_SERVER, development writes each message to
    # MAIL_OUTBOX_DIR (default instance/mail) as an .eml file; production refuses to start.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Flask MongoDB API <no-reply@localhost>"
    MAIL_TIMEOUT_S = 10.0
    MAIL_OUTBOX_DIR: str | None = None

    # Background jobs (Celery). Default broker: the app's MongoDB (kombu's MongoDB transport, with a
    # visibility timeout); set a redis:// or amqp:// URL to use Redis or RabbitMQ instead.
    CELERY_BROKER_URL: str | None = None
    CELERY_VISIBILITY_TIMEOUT_S = 3600.0  # an unacknowledged job is handed out again after this long
    CELERY_POLL_INTERVAL_S = 0.2  # how often an idle worker polls the MongoDB broker
    WORKER_CONCURRENCY = 2

    # How long the first response to a POST with an Idempotency-Key is kept for its retries.
    IDEMPOTENCY_TTL_S = 24 * 3600

    LOG_LEVEL = "INFO"
    ERROR_LOG_PATH: str | None = None
    LOG_REQUESTS = True  # one JSON line per request on stdout
    SLOW_REQUEST_MS = 1000  # slower requests are logged at warning level
    REQUEST_LOG_TO_DB = False  # also keep request records in the logs collection (off the request path)
    METRICS_ENABLED = True  # Prometheus metrics at /metrics
    # Bearer token /metrics requires when set; in production /metrics is a 404 until it is set.
    METRICS_TOKEN: str | None = None
    READY_TIMEOUT_MS = 1000  # database ping budget of /ready
    DOCS_ENABLED = True  # the OpenAPI document at /api/v1/openapi.json and Swagger UI at /docs

    # HTTP
    MAX_CONTENT_LENGTH = 1024 * 1024  # larger request bodies are a 413
    CORS_ORIGINS: tuple[str, ...] = ()  # comma-separated; empty means CORS is off
    PROXY_COUNT = 0  # reverse proxies in front of the app whose X-Forwarded-* headers are trusted
    # Where those proxies connect from; X-Forwarded-* and X-Request-ID from any other peer are dropped.
    TRUSTED_PROXIES = ("127.0.0.0/8", "::1", "fc00::/7", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")

    @classmethod
    def read(cls, environ: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
        """Return this environment's settings with overrides from `environ`, and every value that does not parse.

        A value that does not parse keeps its default, so that the checks of the others still run.
        """
        settings: dict[str, Any] = {}
        problems: list[str] = []
        for name in dir(cls):
            if not name.isupper():
                continue
            default = getattr(cls, name)
            raw = None if name in cls.fixed_settings else environ.get(name)
            try:
                settings[name] = default if raw is None else _parse(name, raw, default)
            except ConfigError as error:
                problems += error.problems
                settings[name] = default
        return settings, problems

    @classmethod
    def load(cls, environ: Mapping[str, str]) -> dict[str, Any]:
        """Return the settings read from `environ`; raise ConfigError listing every unparseable value."""
        settings, problems = cls.read(environ)
        if problems:
            raise ConfigError(*problems)
        return settings

    @classmethod
    def check(cls, settings: Mapping[str, Any]) -> list[str]:
        """Return every problem with the meaning of `settings` (empty when they can work), one line each."""
        return check_settings(settings, production=False)


class DevelopmentConfig(Config):
    """Local development: debug on, embedded MongoDB kept under instance/."""

    ENV_NAME = "development"
    DEBUG = True
    # Generous, so that walking the README and Swagger UI never hits it; production keeps 10/minute.
    RATELIMIT_AUTH = "1000/minute"


class TestingConfig(Config):
    """The test suite: a throwaway embedded MongoDB unless TEST_MONGODB_URI is set."""

    ENV_NAME = "testing"
    TESTING = True
    # Still Argon2id, at a cost that keeps hundreds of sign-ups in the suite fast.
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_KIB = 1024
    PASSWORD_HASH_PARALLELISM = 1
    RATELIMIT_AUTH = "1000/minute"
    RATELIMIT_ACCOUNT = "1000/minute"
    RATELIMIT_MAIL = "1000/minute"
    RATELIMIT_LOGIN_ACCOUNT = "1000/minute"
    RATELIMIT_MAIL_RECIPIENT = "1000/minute"
    LOG_LEVEL = "ERROR"  # keep test output readable; tests that check logs capture them

    @classmethod
    def read(cls, environ: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
        """Read nothing but TEST_MONGODB_URI: tests pass whatever a developer's .env or shell holds.

        A process that a test starts (a worker, a server) gets its settings from that test through its
        environment, marked with FLASK_TEST_SETTINGS=env; the test runner removes the marker from the
        developer's environment, with every setting.
        """
        from_test = environ.get("FLASK_TEST_SETTINGS") == "env"
        settings, problems = super().read(environ if from_test else {})
        if not from_test or not settings["MONGODB_URI"]:
            settings["MONGODB_URI"] = environ.get("TEST_MONGODB_URI") or None
        return settings, problems


class ProductionConfig(Config):
    """Production: a real MongoDB and a real secret are required."""

    ENV_NAME = "production"

    @classmethod
    def check(cls, settings: Mapping[str, Any]) -> list[str]:
        """Also refuse a missing or placeholder SECRET_KEY and a missing MONGODB_URI."""
        return check_settings(settings, production=True)


config: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def get_config(name: str | None) -> type[Config]:
    """Return the config class called `name` (default development)."""
    try:
        return config[name or "development"]
    except KeyError:
        raise ConfigError(f"FLASK_CONFIG must be one of {', '.join(config)}, got {name!r}") from None
