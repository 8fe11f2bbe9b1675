"""Serve the app with granian instead of gunicorn: `python deploy/granian_server.py` (optional, measured in bench).

granian is a Rust HTTP server with a WSGI interface: HTTP parsing, keep-alive and connection handling
happen outside Python, so a small request costs about half the CPU of gunicorn's sync worker (see
docs/performance.md). The WSGI application is the same `manage:application`; `gunicorn manage:application`
remains the documented production server. Install it with `pip install -r requirements/granian.txt`.

Like gunicorn.conf.py, this launcher gives every worker one fresh Prometheus directory (so /metrics adds
up all workers), writes granian's own logs as the app's JSON lines, and drains on SIGTERM: in-flight
requests finish (up to GRANIAN_WORKERS_KILL_TIMEOUT seconds), new connections are refused.
Settings, each from the environment: GRANIAN_HOST (0.0.0.0), GRANIAN_PORT (8000), GRANIAN_WORKERS
(CPU count), GRANIAN_BLOCKING_THREADS (8 per worker: requests waiting on MongoDB overlap, as in FastAPI's
thread pool), GRANIAN_BACKPRESSURE (16 requests in Python per worker; more wait in granian),
GRANIAN_WORKERS_KILL_TIMEOUT (30 s to drain on SIGTERM), GRANIAN_WORKERS_LIFETIME (unset: never recycle).
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import sys
import tempfile
from multiprocessing import util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int | None) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else default


class _Token:
    """A weak-referenceable object that keeps the after-fork registration alive."""


_FLUSH_IN_WORKERS = _Token()


def _flush_logs_at_worker_exit(_token: _Token) -> None:
    util.Finalize(None, logging.shutdown, exitpriority=10)


def main() -> None:
    """Prepare the metrics directory and start granian on manage:application."""
    from dotenv import load_dotenv

    load_dotenv(ROOT / ".env")  # as manage.py does, before the settings below are read; real variables win
    # Before any worker imports prometheus_client, as gunicorn.conf.py does; emptied so that samples of a
    # previous run are not added in.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="prometheus-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)
    # granian's workers are multiprocessing children, which end without running atexit: register, in
    # each worker, a multiprocessing finalizer that flushes and closes the log handlers (logging.shutdown).
    util.register_after_fork(_FLUSH_IN_WORKERS, _flush_logs_at_worker_exit)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    # Load the app once, here, as gunicorn's preload_app does: a configuration error stops start-up with
    # one line instead of a loop of dying workers, and the forked workers inherit the loaded code. Then
    # freeze it, so that workers neither scan it in collections nor copy its pages (gunicorn.conf.py's
    # pre_fork). Nothing connects at import: each worker opens its own MongoClient on first use.
    import manage  # noqa: F401

    gc.freeze()

    from granian import Granian
    from granian.constants import Interfaces

    log_config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "app.services.json_logging.JsonFormatter"}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}},
        "loggers": {
            "_granian": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
    }
    Granian(
        "manage:application",
        interface=Interfaces.WSGI,
        address=os.environ.get("GRANIAN_HOST", "0.0.0.0"),  # noqa: S104 (as gunicorn.conf.py: behind a proxy)
        port=_int("GRANIAN_PORT", 8000) or 8000,
        workers=_int("GRANIAN_WORKERS", os.cpu_count() or 1) or 1,
        blocking_threads=_int("GRANIAN_BLOCKING_THREADS", 8),
        backpressure=_int("GRANIAN_BACKPRESSURE", 16),
        websockets=False,
        log_dictconfig=log_config,
        workers_kill_timeout=_int("GRANIAN_WORKERS_KILL_TIMEOUT", 30),
        workers_lifetime=_int("GRANIAN_WORKERS_LIFETIME", None),
        respawn_failed_workers=True,
    ).serve()


if __name__ == "__main__":
    main()
