"""Background jobs on Celery, bound to the app's config: the broker, the mail jobs and their logging.

The broker is the app's own MongoDB by default (kombu's MongoDB transport, in app.services.mongo_broker,
with collections named celery_*), so development, tests and a small deployment need no other server;
CELERY_BROKER_URL set to a redis:// or amqp:// URL moves it to Redis or RabbitMQ. No result backend:
jobs report through their effects, logs and /metrics.

Jobs are acknowledged after they finish (a worker that dies mid-job leaves it to be run again), retried
with exponential backoff on transient errors (SMTP, network, database), and logged with the request id
of the request that queued them.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context
from prometheus_client import Counter
from pymongo.errors import ConnectionFailure, PyMongoError

from app.services.request_id import request_id
from controller.mail import MAIL_JOBS, MailJob, MailSettings
from model.mongodb import JobStat

if TYPE_CHECKING:
    # Imported where used: Celery and kombu add about 8 MB and 0.1 s to every web worker that never
    # queues a job (docs/performance.md).
    from celery import Celery, Task

log = logging.getLogger("app.jobs")
# Errors worth another try: the mail server or the database is briefly away or overloaded.
TRANSIENT_ERRORS = (OSError, smtplib.SMTPException, ConnectionFailure)
MAX_RETRIES = 8
RETRY_BACKOFF_MAX_S = 300  # below the visibility timeout, so a waiting retry is not handed out twice
BROKER_COLLECTIONS = {
    "messages_collection": "celery_messages",
    "routing_collection": "celery_routing",
    "broadcast_collection": "celery_broadcast",
    "queues_collection": "celery_queues",
}


def _mongo_broker_url(uri: str, db_name: str, timeout_ms: int) -> str:
    """Return the app's MongoDB URI pointing at the app's database, with a server-selection budget."""
    parts = urlsplit(uri)
    query = parts.query
    if "serverselectiontimeoutms" not in query.lower():
        query = "&".join(filter(None, [query, f"serverSelectionTimeoutMS={timeout_ms}"]))
    return parts._replace(path=f"/{db_name}", query=query).geturl()


def create_celery(app: Flask) -> Celery:
    """Build the Celery app for `app`: its broker, settings and the mail jobs."""
    from celery import Celery

    config = app.config
    celery = Celery(app.import_name, set_as_current=False)
    url = config["CELERY_BROKER_URL"]
    options: dict[str, Any] = {}
    if not url:
        mongo = app.extensions["mongo"]
        url = _mongo_broker_url(mongo.uri, mongo.db.name, config["MONGODB_TIMEOUT_MS"])
    if url.startswith(("mongodb://", "mongodb+srv://")):
        celery.conf.broker_transport = "app.services.mongo_broker:Transport"
        options = {
            **BROKER_COLLECTIONS,
            "visibility_timeout": config["CELERY_VISIBILITY_TIMEOUT_S"],
            "polling_interval": config["CELERY_POLL_INTERVAL_S"],
        }
    elif url.startswith(("redis://", "rediss://", "sqs://")):
        options = {"visibility_timeout": config["CELERY_VISIBILITY_TIMEOUT_S"]}
    celery.conf.update(
        broker_url=url,
        broker_transport_options=options,
        broker_connection_retry_on_startup=True,
        task_default_queue="jobs",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_concurrency=config["WORKER_CONCURRENCY"],
        worker_send_task_events=False,
        # Remote control, gossip and mingle poll broadcast collections; a job queue needs none of them.
        worker_enable_remote_control=False,
        timezone="UTC",
    )
    for name, job in MAIL_JOBS.items():
        _register(celery, app, name, job)
    return celery


def _register(celery: Celery, app: Flask, name: str, job: MailJob) -> None:
    """Make the mail job `job` a Celery task called `name`, run with the app's dependencies."""

    def run(task: Task, **kwargs: Any) -> bool:
        rid = task.request.get("request_id") or ""
        started = time.monotonic()
        stats = JobStat(app.extensions["mongo"].db)
        try:
            db, mailer = app.extensions["mongo"].db, app.extensions["mailer"]
            result = job(db, mailer, mail_settings(app), key=task.request.id, **kwargs)
        except TRANSIENT_ERRORS as error:
            retries = task.request.retries
            outcome = "failed" if retries >= MAX_RETRIES else "retried"
            log.warning("job %s %s %s: %s", name, task.request.id, outcome, error, extra={"request_id": rid})
            _count(stats, name, outcome)
            if outcome == "failed":
                raise
            countdown = min(RETRY_BACKOFF_MAX_S, 2 ** (retries + 1))
            raise task.retry(exc=error, countdown=countdown, max_retries=MAX_RETRIES) from error
        except Exception:
            log.exception("job %s %s failed", name, task.request.id, extra={"request_id": rid})
            _count(stats, name, "failed")
            raise
        ms = (time.monotonic() - started) * 1000
        log.info(
            "job %s %s done in %.0f ms (%s)",
            name,
            task.request.id,
            ms,
            "sent" if result else "nothing to send",
            extra={"request_id": rid},
        )
        _count(stats, name, "succeeded")
        return result

    run.__name__ = run.__qualname__ = name.replace(".", "_")
    celery.task(name=name, bind=True)(run)


def _count(stats: JobStat, name: str, outcome: str) -> None:
    try:
        stats.count(name, outcome)
    except PyMongoError:  # the count is best effort; the job's own outcome matters more
        log.warning("job %s: could not count outcome %s", name, outcome)


def mail_settings(app: Flask) -> MailSettings:
    """Return what the mail jobs need from `app`'s config."""
    config = app.config
    return MailSettings(
        app_name=config["APP_NAME"],
        public_base_url=config["PUBLIC_BASE_URL"],
        verification_ttl=timedelta(seconds=config["EMAIL_VERIFICATION_TTL_S"]),
        email_change_ttl=timedelta(seconds=config["EMAIL_CHANGE_TTL_S"]),
    )


class Jobs:
    """The app's job queue: the Celery app, built on first use (the broker may be the embedded server)."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._celery: Celery | None = None
        self._broker_uri: str | None = None  # the app's MongoDB URI the broker was built on

    @property
    def celery(self) -> Celery:
        """Return the Celery app, building it on first use (again when the development server moved)."""
        uri = None if self._app.config["CELERY_BROKER_URL"] else self._app.extensions["mongo"].uri
        if self._celery is not None and uri != self._broker_uri:
            self._celery.close()  # a restarted embedded server listens on another port
            self._celery = None
        if self._celery is None:
            self._celery = create_celery(self._app)
            self._broker_uri = uri
        return self._celery

    def enqueue(self, job: str, **kwargs: Any) -> None:
        """Queue `job`; an unreachable broker raises ConnectionFailure (answered 503), so nothing is lost silently."""
        from kombu.exceptions import OperationalError

        headers = {"request_id": request_id() if has_request_context() else ""}
        try:
            self.celery.send_task(
                job,
                kwargs=kwargs,
                headers=headers,
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
            )
        except OperationalError as error:
            raise ConnectionFailure(f"the job queue is unreachable: {error}") from error
        _queued().labels(job).inc()

    def close(self) -> None:
        """Release the broker connections (tests build many apps)."""
        if self._celery is not None:
            self._celery.close()


_QUEUED: list[Counter] = []
_QUEUED_LOCK = threading.Lock()  # two threads of one worker at first use would register it twice


def _queued() -> Counter:
    if not _QUEUED:
        with _QUEUED_LOCK:
            if not _QUEUED:
                _QUEUED.append(Counter("jobs_queued_total", "Background jobs queued, by job.", ["job"]))
    return _QUEUED[0]


def exposition(db: Any) -> bytes:
    """Return job counters (every worker's, from the database) in Prometheus text format."""
    lines = ["# HELP jobs_finished_total Background jobs finished, by job and outcome (all workers).",
             "# TYPE jobs_finished_total counter"]  # fmt: skip
    for stat in JobStat(db).all():
        lines.append(f'jobs_finished_total{{job="{stat["job"]}",outcome="{stat["outcome"]}"}} {stat["count"]}')
    return ("\n".join(lines) + "\n").encode()


def get_jobs() -> Jobs:
    """Return the current app's job queue."""
    jobs: Jobs = current_app.extensions["jobs"]
    return jobs


def init_app(app: Flask) -> None:
    """Give `app` its job queue."""
    app.extensions["jobs"] = Jobs(app)
