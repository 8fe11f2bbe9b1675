"""The watchdog of deploy/gunicorn_worker.py: it replaces a leading thread stuck on one request.

A leader serves the kept-alive connections in turn, so while it waits, nobody serves them: a client slow
to send its request, a slow MongoDB reply. A step down before every MongoDB command (a pymongo command
listener) was measured and not kept: one hand-off per request, as in gthread, cost GET /posts/<id> 20-40%
more CPU than waiting, with the database on the same machine (docs/performance.md).
"""

from __future__ import annotations

import time
from typing import Any

# A leader whose thread keeps running (CPU work outside the GIL, a busy CPU) is deposed after this long.
RUNNING_LIMIT_S = 0.02
# The watchdog sleeps once no leader has served a request for this long.
QUIET_S = 0.05


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
