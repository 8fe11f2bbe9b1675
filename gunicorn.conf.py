"""Gunicorn settings, read by `gunicorn manage:application`; each can be overridden from the environment."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import tempfile
import threading
from typing import Any

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)
# Threads (gthread): /health and requests that need no database never queue behind requests waiting on
# MongoDB; sync workers could not keep /health under 1 s in a database outage (docs/resilience.md).
threads = _int("GUNICORN_THREADS", 8)  # 1 switches back to the sync worker
# gthread, with kept-alive connections served in their thread and one quick request in Python at a time:
# about a third less CPU per small request under load (deploy/gunicorn_worker.py, docs/performance.md).
worker_class = "deploy.gunicorn_worker.ServingWorker" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)  # a worker silent this long is killed and replaced
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)  # SIGTERM: finish in-flight requests first
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Seconds a client gets for a request's headers, and between two reads or writes after them, as nginx gives
# (deploy/client_timeouts.py reads it in each worker; read here too, so that a bad value stops start-up).
client_timeout = _float("GUNICORN_CLIENT_TIMEOUT", 10)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)  # recycle workers after N requests (0: never)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0)
# SIGTERM: /ready answers 503 for this many seconds while the instance still serves, so that the proxy or
# load balancer stops sending it requests; only then does it stop accepting and finish what it has.
drain_seconds = _float("GUNICORN_DRAIN_S", 5)
# The front proxy (deploy/nginx.conf) enforces the request limits and answers them in JSON: 8 KiB request
# line and header lines, 32 KiB of headers. gunicorn's limits sit above those, so that it never rejects a
# request nginx let through (nginx appends to X-Forwarded-For, which can make that header longer).
limit_request_line = 8190  # gunicorn's maximum
limit_request_fields = 32768  # gunicorn's maximum
limit_request_field_size = 16384
# gunicorn's control socket lives at one path per user, which two instances on one host would share;
# the signals (TERM, HUP, TTIN, TTOU) do the same jobs.
control_socket_disable = True
# Load the app once in the master: a configuration error stops start-up with one line, and workers
# share the loaded code. Nothing connects at load time; each worker opens its own MongoDB client on
# first use (app/services/database.py keys clients by process id), so no client ever crosses a fork.
preload_app = True
# The app already logs every request as JSON; set GUNICORN_ACCESS_LOG=1 for gunicorn's own access log.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "") not in ("", "0", "false") else None

# Prometheus: every worker writes its samples to files in this directory; /metrics adds them up.
# It must be set before prometheus_client is imported, which happens when the app is loaded.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # unset or empty (an empty value means the current directory)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prometheus-")

logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "app.services.json_logging.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}},
    # Gunicorn merges this dict into its defaults key by key, so the root logger must be given too.
    "root": {"level": "WARNING", "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
    },
}


class JsonAccessLogger(Logger):
    """Gunicorn's logger with access lines as the same JSON objects the app writes."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Log one answered request with structured fields."""
        if not accesslog:
            return
        headers = dict(resp.headers)
        self.access_log.info(
            "access",
            extra={
                "request_id": headers.get("X-Request-ID"),
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": resp.status_code,
                "duration_ms": round(request_time.total_seconds() * 1000, 2),
                "client": environ.get("REMOTE_ADDR"),
            },
        )


logger_class = JsonAccessLogger


def on_starting(server: Any) -> None:
    """Start with an empty metrics directory, so samples of a previous run are not added in; answer
    gunicorn's own errors in JSON."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)
    from gunicorn import util

    util.write_error = write_json_error


def write_json_error(sock: Any, status: int, reason: str, message: str) -> None:
    """Answer a request gunicorn itself rejects (bad request line, bad header...) with the app's JSON envelope
    and headers, instead of gunicorn's HTML page. Behind nginx this is rare: nginx rejects most of it first.
    """
    from gunicorn import util

    from app.http.server_errors import raw_error

    util.write_nonblock(sock, raw_error(status, reason))


def when_ready(server: Any) -> None:
    """Drain on SIGTERM: /ready fails for `drain_seconds` while everything else is served, then gunicorn stops
    as it always does (no new connections, in-flight requests finish within the graceful timeout).

    A second SIGTERM during the drain changes nothing; SIGINT or SIGQUIT still stop at once.
    """
    from app.services import lifecycle

    lifecycle.share_drain_flag()  # before the workers are forked, so that they all share it
    stop = server.handle_term
    drained = threading.Event()

    def handle_term() -> None:
        if drain_seconds <= 0 or drained.is_set():
            stop()
        if lifecycle.is_draining():
            return
        lifecycle.start_draining()
        server.log.info("Draining for %s s: /ready answers 503, requests are still served", drain_seconds)

        def finish() -> None:
            drained.set()
            os.kill(os.getpid(), signal.SIGTERM)  # back through the arbiter's own signal queue

        timer = threading.Timer(drain_seconds, finish)
        timer.daemon = True
        timer.start()

    server.handle_term = handle_term


def pre_fork(server: Any, worker: Any) -> None:
    """Freeze what the preloaded app allocated, so that workers neither scan it in garbage collections
    nor copy its memory pages by touching their reference counts (the practice the `gc` docs give).
    """
    gc.freeze()


def child_exit(server: Any, worker: Any) -> None:
    """Retire a dead worker's live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
