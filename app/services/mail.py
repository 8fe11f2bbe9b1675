"""Sending mail: rendered from Jinja templates (a text and an HTML part), sent by SMTP or saved as .eml.

With MAIL_SERVER set, messages go through that SMTP server (STARTTLS with MAIL_USE_TLS, implicit TLS
with MAIL_USE_SSL, login with MAIL_USERNAME/MAIL_PASSWORD). Without it (development and tests only:
production refuses to start) each message is written to MAIL_OUTBOX_DIR, default instance/mail/, as
an .eml file any mail program opens, and one log line names its subject and recipient.

Templates live beside this module in mail_templates/: `<name>.txt` and `<name>.html`, each setting
`subject`. They are rendered here, outside any request, by the worker that sends them.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
import time
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).with_name("mail_templates")
log = logging.getLogger("app.mail")


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a missing variable fails the job, not a silent blank in a mail
        keep_trailing_newline=True,
    )


def render(template: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """Return the subject, the text part and the HTML part of `template` rendered with `context`."""
    env = _environment()
    text = env.get_template(f"{template}.txt").make_module(dict(context))
    html = env.get_template(f"{template}.html").render(context)
    subject = " ".join(str(getattr(text, "subject", "")).split())
    return subject, str(text).strip() + "\n", html


class Mailer:
    """Build messages from the app's MAIL_* settings and deliver them."""

    def __init__(self, config: Mapping[str, Any], instance_path: str) -> None:
        self.server: str | None = config["MAIL_SERVER"]
        self.port: int = config["MAIL_PORT"]
        self.use_tls: bool = config["MAIL_USE_TLS"]
        self.use_ssl: bool = config["MAIL_USE_SSL"]
        self.username: str | None = config["MAIL_USERNAME"]
        self.password: str | None = config["MAIL_PASSWORD"]
        self.sender: str = config["MAIL_DEFAULT_SENDER"]
        self.timeout: float = config["MAIL_TIMEOUT_S"]
        self.outbox = Path(config["MAIL_OUTBOX_DIR"] or Path(instance_path) / "mail")

    def build(self, *, to: str, template: str, context: Mapping[str, Any]) -> EmailMessage:
        """Return the message for `template`, addressed to `to`."""
        subject, text, html = render(template, context)
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = to
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip("> ") or None)
        # 8bit, not quoted-printable: links stay whole in the source (grep-able .eml files, simple tests).
        message.set_content(text, cte="8bit")
        message.add_alternative(html, subtype="html", cte="8bit")
        return message

    def send(self, *, to: str, template: str, context: Mapping[str, Any]) -> None:
        """Render and deliver one message; SMTP and file errors propagate (the job retries them)."""
        message = self.build(to=to, template=template, context=context)
        if self.server is None:
            path = self._save(message)
            log.info("mail saved: %r to %s in %s", message["Subject"], to, path)
            return
        self._smtp_send(message)
        log.info("mail sent: %r to %s", message["Subject"], to)

    def _save(self, message: EmailMessage) -> Path:
        self.outbox.mkdir(parents=True, exist_ok=True)
        path = self.outbox / f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}.eml"
        path.write_bytes(message.as_bytes())
        return path

    def _smtp_send(self, message: EmailMessage) -> None:
        server = self.server or "localhost"
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(server, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(server, self.port, timeout=self.timeout)
        with smtp:
            if self.use_tls and not self.use_ssl:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def init_app(app: Flask) -> None:
    """Give `app` its mailer."""
    app.extensions["mailer"] = Mailer(app.config, app.instance_path)
