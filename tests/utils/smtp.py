"""A real SMTP server for tests (aiosmtpd), collecting what it receives."""

from __future__ import annotations

import re
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

LINK_TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_\-%]+)")


class MailCatcher:
    """Run an SMTP server on a free 127.0.0.1 port; `delay` makes each DATA take that long."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.delay = 0.0
        self._lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            time.sleep(self.delay)  # blocks the server's loop on purpose: a slow mail server
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type] (policy.default builds EmailMessage)
        return "250 Message accepted for delivery"

    def start(self) -> MailCatcher:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        """Return the messages received for `address`, oldest first."""
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 60) -> list[EmailMessage]:
        """Wait until `count` messages for `address` arrived; return them (fails with AssertionError)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(
            f"{count} mail(s) to {address} did not arrive in {timeout} s (got {len(self.to(address))})"
        )


def text_part(message: EmailMessage) -> str:
    """Return the plain-text part of a message."""
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        raise AssertionError("the message has no text part")
    return str(part.get_content())


def token_in(message: EmailMessage) -> str:
    """Return the token of the link in a message's text part."""
    match = LINK_TOKEN.search(text_part(message))
    if match is None:
        raise AssertionError(f"no token link in: {text_part(message)}")
    return match.group(1)
