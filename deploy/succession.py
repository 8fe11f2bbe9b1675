"""How the leading thread of deploy/gunicorn_worker.py is replaced: its watchdog, and a step down before MongoDB.

A leader serves the kept-alive connections in turn, so while it waits, nobody serves them. It steps down
itself just before it waits on MongoDB (`StepDownForMongo`, a pymongo command listener), and the watchdog
(`watch`) deposes it when it is stuck anyway: a client slow to send its request, any other wait.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from pymongo import monitoring

# A leader whose thread keeps running (CPU work outside the GIL, a busy CPU) is deposed after this long.
RUNNING_LIMIT_S = 0.02
# The watchdog sleeps once no leader has served a request for this long.
QUIET_S = 0.05


class StepDownForMongo(monitoring.CommandListener):
    """A leader about to send a command to MongoDB lets another thread lead while it waits for the reply."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Depose the leader if this thread is it."""
        token = self.worker.leader
        serving = self.worker.busy.get(token)
        if serving is not None and serving[2] == threading.get_ident():
            self.worker.depose(token)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Ignored."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Ignored."""


def watch(worker: Any, interval: float) -> None:
    """Depose a stuck leader (the watchdog thread's loop).

    A leader is stuck when it has served one request for `interval` while its thread sleeps (a slow
    client, any wait), or for RUNNING_LIMIT_S in any case (password hashing outside the GIL). A leader
    merely slowed down by a busy CPU stays: replacing it would only add threads fighting for the GIL. The
    watchdog looks every `interval` while leaders serve, and sleeps after QUIET_S without a request served.
    """
    seen: tuple[int, Any] = (0, None)
    seen_at = quiet_since = time.monotonic()
    while True:
        worker.watched.wait()
        time.sleep(interval)
        now, token = time.monotonic(), worker.leader
        serving = (token, worker.busy.get(token))
        if serving[1] is None:
            if now - quiet_since > QUIET_S:
                worker.watched.clear()
                if worker.busy:  # a leader started serving before it could see the event cleared
                    worker.watched.set()
            continue
        quiet_since = now
        if serving != seen:
            seen, seen_at = serving, now
        elif now - seen_at >= RUNNING_LIMIT_S or not _running(serving[1][1]):
            worker.depose(token)


def _running(thread_id: int) -> bool:
    """Whether a thread of this process is running or ready to run, rather than waiting (Linux's /proc)."""
    try:
        with open(f"/proc/self/task/{thread_id}/stat", "rb") as stat:
            fields = stat.read()
    except OSError:
        return False
    return fields[fields.rindex(b")") + 2 :][:1] == b"R"
