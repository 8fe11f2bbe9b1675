"""Gunicorn settings for the peers: the project's server settings (gunicorn.conf.py), none of its app.

The project's file configures logging through the app's JSON formatter, which imports the whole `app`
package into every peer worker and adds its memory to theirs. These are the same thread, timeout and
preload settings, read from the same variables with the same defaults, and gunicorn's own logging. The
worker is gunicorn's own gthread, as a team starting from those templates would run it: the project's
worker class (deploy/gunicorn_worker.py) is the project's code, measured as part of it.
"""

from __future__ import annotations

import gc
import os
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)
threads = _int("GUNICORN_THREADS", 8)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
preload_app = True


def pre_fork(server: Any, worker: Any) -> None:
    """Freeze the preloaded app before each fork, as the project's gunicorn.conf.py does."""
    gc.freeze()
