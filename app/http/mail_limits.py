"""The limit per recipient on the mails a request can trigger (`RATELIMIT_MAIL_RECIPIENT`).

The per-address mail limit does not protect a mailbox from many addresses asking for mails to it (mail
bombing). This one counts the mails queued for each normalised recipient address, whatever the
address asking or the kind of mail (reset, verification, change confirmation), in the same moving
windows as the other limits. Over it, the mail is not queued and the event is logged; the answer stays
the same, so it tells nothing about the account or the limit.
"""

from __future__ import annotations

import hashlib

import limits
from flask import current_app

from app.http.rate_limits import rules_for

SCOPE = "mail-recipient"


def may_mail(recipient: str) -> bool:
    """Count a mail to `recipient` (a normalised address) and tell whether it may be sent."""
    limiter = current_app.extensions["rate_limiter"]
    if not limiter.enabled:
        return True
    strategy, key = limiter.limiter, recipient.lower()
    rules = limits.parse_many(rules_for("RATELIMIT_MAIL_RECIPIENT"))
    if all(strategy.test(rule, key, SCOPE) for rule in rules):
        for rule in rules:
            strategy.hit(rule, key, SCOPE)
        return True
    # The address itself is personal data: the log names it by a short digest.
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    current_app.logger.warning("mail not sent: recipient %s is over its limit (%s)", digest, SCOPE)
    return False
