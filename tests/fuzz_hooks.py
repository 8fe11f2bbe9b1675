"""Schemathesis hooks for `make fuzz`: a fresh access token for every protected request.

Tokens are short-lived on purpose here: the fuzzer also calls /auth/logout, which revokes the token it
used, so a new one is fetched every second.
"""

from __future__ import annotations

import os
from typing import Any

import requests
import schemathesis


@schemathesis.auth(refresh_interval=1)
class FuzzUserAuth:
    """Log the fuzz account in and send its access token as a bearer token."""

    def get(self, case: Any, ctx: Any) -> str:
        response = requests.post(
            os.environ["FUZZ_BASE_URL"] + "/api/v1/auth/login",
            json={"email": os.environ["FUZZ_EMAIL"], "password": os.environ["FUZZ_PASSWORD"]},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
