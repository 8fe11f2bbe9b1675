"""Proxy headers: trusted only from the proxies' own addresses."""

from __future__ import annotations

from typing import Any

from app import create_app
from app.http.proxy import parse_networks
from config_checks import check_settings
from tests.base import ApiTestCase, mongo_uri

DIRECT = {"REMOTE_ADDR": "203.0.113.50"}  # a client that reaches the instance without the proxy
VIA_PROXY = {"REMOTE_ADDR": "10.1.2.3"}  # the proxy, inside the default trusted networks


class TrustedProxyTest(ApiTestCase):
    def make_client(self, **settings: Any) -> Any:
        overrides = {"MONGODB_URI": mongo_uri(), "MONGODB_DB": self.db.name, "PROXY_COUNT": 1, **settings}
        return create_app("testing", {"RATELIMIT_AUTH": "1/minute", **overrides}).test_client()

    def login(self, client: Any, environ: dict[str, str], forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return int(client.post("/api/v1/auth/login", json={}, headers=headers, environ_base=environ).status_code)

    def test_direct_client_cannot_choose_its_address_with_forwarded_for(self) -> None:
        client = self.make_client()
        self.assertEqual(self.login(client, DIRECT, "198.51.100.1"), 400)
        # A new forged address buys no fresh rate-limit budget: the peer's own address is the key.
        self.assertEqual(self.login(client, DIRECT, "198.51.100.2"), 429)

    def test_proxy_reported_address_is_the_key_behind_a_trusted_proxy(self) -> None:
        client = self.make_client()
        self.assertEqual(self.login(client, VIA_PROXY, "198.51.100.1"), 400)
        self.assertEqual(self.login(client, VIA_PROXY, "198.51.100.2"), 400)
        self.assertEqual(self.login(client, VIA_PROXY, "198.51.100.1"), 429)

    def test_request_id_of_a_direct_client_is_replaced(self) -> None:
        client = self.make_client()
        chosen = {"X-Request-ID": "chosen-by-client-1"}
        direct = client.get("/health", headers=chosen, environ_base=DIRECT)
        self.assertNotEqual(direct.headers["X-Request-ID"], "chosen-by-client-1")
        proxied = client.get("/health", headers=chosen, environ_base=VIA_PROXY)
        self.assertEqual(proxied.headers["X-Request-ID"], "chosen-by-client-1")

    def test_trusted_networks_are_a_setting(self) -> None:
        client = self.make_client(TRUSTED_PROXIES=("192.0.2.7",))
        self.assertEqual(self.login(client, VIA_PROXY, "198.51.100.1"), 400)
        self.assertEqual(self.login(client, VIA_PROXY, "198.51.100.2"), 429)  # 10.1.2.3 is no longer trusted
        proxy = {"REMOTE_ADDR": "192.0.2.7"}
        self.assertEqual(self.login(client, proxy, "198.51.100.3"), 400)

    def test_bad_network_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            parse_networks(["10.0.0.0/33"])
        problems = check_settings({"TRUSTED_PROXIES": ("10.0.0.0/8", "nope")}, production=False)
        self.assertEqual(len(problems), 1)
        self.assertIn("TRUSTED_PROXIES", problems[0])
