"""Prometheus metrics: requests counted and timed by method, endpoint and status.

One histogram, `http_request_duration_seconds`, carries both: its `_count` series is the number of
requests (rate it for requests per second) and its buckets the latency distribution, by method, route
pattern and status.

Under gunicorn, `gunicorn.conf.py` sets PROMETHEUS_MULTIPROC_DIR, so every worker writes its samples
to shared files and `/metrics` adds them up across workers.
"""

from __future__ import annotations

import os
import threading

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Any other method a client sends is counted as "other": a label must never take client-chosen values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class _Metrics:
    """The process's metric objects, created on first use (registering them twice is an error)."""

    def __init__(self) -> None:
        labels = ["method", "endpoint", "status"]
        self.requests = Histogram(
            "http_request_duration_seconds", "Time to answer an HTTP request.", labels, buckets=LATENCY_BUCKETS
        )
        self.dropped_logs = Counter("request_log_dropped_total", "Request log entries dropped, not written.")
        # (method, endpoint, status) -> its histogram child: labels() costs a lock and a lookup each time.
        self.children: dict[tuple[str, str, str], Histogram] = {}


_metrics: _Metrics | None = None
_metrics_lock = threading.Lock()


def metrics() -> _Metrics:
    """Return the process's metrics, created on first use.

    Under a lock: with several threads per worker (gunicorn's gthread, granian's blocking threads) two
    first requests at once would both register the histogram, and the second would fail.
    """
    global _metrics
    if _metrics is None:
        with _metrics_lock:
            if _metrics is None:
                _metrics = _Metrics()
    return _metrics


def observe(method: str, endpoint: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration; `endpoint` is the URL rule, never the raw path."""
    m = metrics()
    labels = (method if method in METHODS else "other", endpoint, str(status))
    child = m.children.get(labels)
    if child is None:
        child = m.children[labels] = m.requests.labels(*labels)
    child.observe(seconds)


def render() -> tuple[bytes, str]:
    """Return the metrics exposition and its content type, summed over workers in multiprocess mode."""
    metrics()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
