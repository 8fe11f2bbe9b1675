"""The meaning of each setting, checked once at start: every problem is reported, one line each.

`config.py` parses each variable to its type; this module checks that the parsed values can work
(a URI pymongo accepts, a write concern MongoDB knows, positive durations, Argon2 costs within the
library's limits, a rate-limit rule, a secret), so a bad value stops start-up instead of failing every
request with a 500.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

# The development secret is public (it is in this file), so production refuses it.
DEV_SECRET_KEY = "dev-secret-key-not-for-production-use-0000"  # noqa: S105
PLACEHOLDER_SECRETS = frozenset({DEV_SECRET_KEY, "", "change-me", "changeme", "secret", "replace-me"})
MIN_SECRET_LENGTH = 32

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Settings counted in milliseconds or seconds that must be above zero, and those that may be zero.
POSITIVE = (
    "MONGODB_TIMEOUT_MS",
    "MONGODB_BREAKER_THRESHOLD",
    "MONGODB_BREAKER_PROBE_MS",
    "ACCESS_TOKEN_TTL_S",
    "REFRESH_TOKEN_TTL_S",
    "EMAIL_VERIFICATION_TTL_S",
    "EMAIL_CHANGE_TTL_S",
    "IDEMPOTENCY_TTL_S",
    "MAIL_TIMEOUT_S",
    "CELERY_VISIBILITY_TIMEOUT_S",
    "CELERY_POLL_INTERVAL_S",
    "WORKER_CONCURRENCY",
    "READY_TIMEOUT_MS",
    "MAX_CONTENT_LENGTH",
)
NOT_NEGATIVE = ("REFRESH_REUSE_GRACE_S", "SLOW_REQUEST_MS", "PROXY_COUNT")
RATE_LIMITS = (
    "RATELIMIT_AUTH",
    "RATELIMIT_ACCOUNT",
    "RATELIMIT_LOGIN_ACCOUNT",
    "RATELIMIT_MAIL",
    "RATELIMIT_MAIL_RECIPIENT",
)


class ConfigError(Exception):
    """Raised when settings are missing or invalid for the chosen environment; one problem per line."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def check_mongodb_uri(uri: str) -> str | None:
    """Return why pymongo would refuse `uri`, or None; never resolves DNS (mongodb+srv is parsed offline)."""
    from pymongo import uri_parser
    from pymongo.errors import PyMongoError

    offline = uri
    if uri.startswith("mongodb+srv://"):
        hosts = uri[len("mongodb+srv://") :].split("/", 1)[0].rpartition("@")[2]
        if not hosts or "," in hosts or ":" in hosts:
            return "a mongodb+srv:// URI names exactly one host and no port"
        offline = "mongodb://" + uri[len("mongodb+srv://") :]
    try:
        uri_parser.parse_uri(offline)
    except (PyMongoError, ValueError) as error:
        return str(error)
    return None


def check_argon2(time_cost: int, memory_kib: int, parallelism: int) -> list[str]:
    """Return why argon2 would refuse these costs (its own limits, from the C library), else nothing."""
    from _argon2_cffi_bindings import lib  # the C library's own limits, as argon2-cffi uses them

    problems = []
    if not lib.ARGON2_MIN_TIME <= time_cost <= lib.ARGON2_MAX_TIME:
        problems.append(f"PASSWORD_HASH_TIME_COST must be {lib.ARGON2_MIN_TIME} or more, got {time_cost}")
    if not lib.ARGON2_MIN_LANES <= parallelism <= lib.ARGON2_MAX_LANES:
        problems.append(
            f"PASSWORD_HASH_PARALLELISM must be {lib.ARGON2_MIN_LANES}..{lib.ARGON2_MAX_LANES}, got {parallelism}"
        )
    least = max(lib.ARGON2_MIN_MEMORY, 8 * max(parallelism, 1))  # Argon2 needs 8 KiB per lane
    if not least <= memory_kib <= lib.ARGON2_MAX_MEMORY:
        problems.append(f"PASSWORD_HASH_MEMORY_KIB must be {least} or more (8 per lane), got {memory_kib}")
    return problems


def _check_rate_limit(name: str, rule: object) -> list[str]:
    """Return why Flask-Limiter's parser (the `limits` library) refuses `rule`, else nothing."""
    from limits import parse_many

    try:
        if not isinstance(rule, str) or not parse_many(rule):
            raise ValueError("empty")
    except ValueError:
        return [f"{name} must look like 10/minute or 5/minute;20/hour, got {rule!r}"]
    return []


def _check_secret(secret: str | None, production: bool) -> list[str]:
    if not production:
        return []  # development and tests fall back to the public development key (create_app warns)
    if not secret or secret in PLACEHOLDER_SECRETS:
        return ["SECRET_KEY must be set to a random value in production"]
    if len(secret) < MIN_SECRET_LENGTH:
        return [f"SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters in production"]
    return []


def check_settings(settings: Mapping[str, Any], *, production: bool) -> list[str]:
    """Return every problem with `settings`, one line each naming the variable; empty when all can work."""
    problems = _check_secret(settings.get("SECRET_KEY"), production)
    uri = settings.get("MONGODB_URI")
    if uri:
        reason = check_mongodb_uri(uri)
        if reason:
            problems.append(f"MONGODB_URI is not a MongoDB connection string: {reason}")
    elif production:
        problems.append("MONGODB_URI must be set in production")
    if production and "MAIL_SERVER" in settings and not settings["MAIL_SERVER"]:
        problems.append("MAIL_SERVER must be set in production")
    concern = str(settings.get("MONGODB_WRITE_CONCERN", "majority"))
    if concern != "majority" and not concern.isdigit():
        problems.append(f"MONGODB_WRITE_CONCERN must be majority or a number of nodes, got {concern!r}")
    checks: list[tuple[tuple[str, ...], Callable[[int], bool], str]] = [
        (POSITIVE, lambda value: value > 0, "above 0"),
        (NOT_NEGATIVE, lambda value: value >= 0, "0 or more"),
    ]
    for names, good, wanted in checks:
        for name in names:
            if name in settings and not good(settings[name]):
                problems.append(f"{name} must be {wanted}, got {settings[name]}")
    problems += check_argon2(
        settings.get("PASSWORD_HASH_TIME_COST", 3),
        settings.get("PASSWORD_HASH_MEMORY_KIB", 65536),
        settings.get("PASSWORD_HASH_PARALLELISM", 4),
    )
    problems += [
        problem for name in RATE_LIMITS if name in settings for problem in _check_rate_limit(name, settings[name])
    ]
    for network in settings.get("TRUSTED_PROXIES", ()):
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            problems.append(f"TRUSTED_PROXIES must list addresses or networks such as 10.0.0.0/8, got {network!r}")
    level = str(settings.get("LOG_LEVEL", "INFO")).upper()
    if level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {settings.get('LOG_LEVEL')!r}")
    return problems
