"""`flask worker`: a background-job worker with the app's config (database, broker, mail, logging)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from app.services.database import Mongo
from app.services.jobs import get_jobs

# How often a development worker checks that its embedded server is still the one it consumes from.
SERVER_CHECK_S = 2.0


@click.command("worker")
@click.option("-c", "--concurrency", type=click.IntRange(1, 64), help="Jobs run at once (default WORKER_CONCURRENCY).")
@click.option("--loglevel", help="Celery's own log level (default LOG_LEVEL).")
@with_appcontext
def worker_command(concurrency: int | None, loglevel: str | None) -> None:
    """Run a worker for the background jobs; Ctrl-C (SIGTERM) stops it after its running jobs."""
    config = current_app.config
    argv = [
        "worker",
        f"--loglevel={loglevel or config['LOG_LEVEL']}",
        f"--concurrency={concurrency or config['WORKER_CONCURRENCY']}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    mongo: Mongo = current_app.extensions["mongo"]
    moved = threading.Event()
    if mongo.embedded and not config["CELERY_BROKER_URL"]:
        # The broker is the embedded development server, whose port changes when it is restarted
        # (`flask db-server stop`, a deleted instance/): follow it, as the web app does.
        threading.Thread(
            target=_stop_when_server_moves, args=(mongo, mongo.uri, moved, current_app.logger), daemon=True
        ).start()
    try:
        get_jobs().celery.worker_main(argv)
    finally:
        if moved.is_set():
            click.echo("worker: the development database moved; restarting on it", err=True)
            # The same command line (`flask worker`, `python -m flask worker`...) in the same process, so
            # that whoever started it (`make run`) still stops it.
            os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])  # noqa: S606 (this very command)


def _stop_when_server_moves(mongo: Mongo, started_on: str, moved: threading.Event, logger: logging.Logger) -> None:
    """Warm-stop this worker (as SIGTERM does) once the development server listens elsewhere."""
    while not moved.wait(SERVER_CHECK_S):
        try:
            current = mongo.uri  # finds, or starts, the server of the instance folder
        except Exception as error:  # a server that cannot start now is looked for again next time
            logger.debug("worker: no development database yet: %s", error)
            continue
        if current != started_on:
            moved.set()
            os.kill(os.getpid(), signal.SIGTERM)
