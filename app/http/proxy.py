"""Trust the proxy's X-Forwarded-* and X-Request-ID headers only when the request came from the proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

# The headers only a trusted proxy may set; from anyone else they are dropped before the app sees them.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_REQUEST_ID")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Parse addresses and networks (`10.0.0.0/8`, `127.0.0.1`); raise ValueError for a bad one."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


class TrustedProxyFix:
    """Apply werkzeug's ProxyFix to requests whose peer is in `networks`; strip the proxy headers of others.

    PROXY_COUNT alone trusts X-Forwarded-For from whoever connects, so a client that reaches an instance
    directly (gunicorn bound to 0.0.0.0 in a container) could choose its own address and dodge the rate
    limits keyed on it.
    """

    def __init__(self, app: Callable[..., Any], *, hops: int, networks: tuple[Network, ...]) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)

        @lru_cache(maxsize=1024)
        def trusted(address: str) -> bool:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                return False  # a unix socket peer has no address: not a proxy we know
            return any(ip in network for network in networks)

        self.trusted = trusted

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.trusted(environ.get("REMOTE_ADDR") or ""):
            answer: Iterable[bytes] = self.fixed(environ, start_response)
            return answer
        for name in PROXY_HEADERS:
            environ.pop(name, None)
        answer = self.app(environ, start_response)
        return answer
