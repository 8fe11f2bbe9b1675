"""`flask worker`: a background-job worker with the app's config (database, broker, mail, logging)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.services.jobs import get_jobs


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
    get_jobs().celery.worker_main(argv)
