"""The metrics service: samples counted once each, whatever the threads of a worker do at once."""

from __future__ import annotations

import os
import subprocess
import sys
import unittest
from pathlib import Path

import orjson

from tests.base import uses_subprocesses

ROOT = Path(__file__).resolve().parents[2]
THREADS = 8

# Runs in a fresh interpreter: the metrics are process-wide and created on first use, which is the moment
# under test. A tiny switch interval makes the threads interleave inside that first use.
FIRST_USE_RACE = f"""
import sys, threading
import orjson
from prometheus_client import REGISTRY
from app.services import metrics

sys.setswitchinterval(1e-6)
barrier, errors = threading.Barrier({THREADS}), []

def observe():
    barrier.wait()
    try:
        metrics.observe("GET", "/api/v1/sample/add", 200, 0.001)
    except Exception as error:
        errors.append(repr(error))

threads = [threading.Thread(target=observe) for _ in range({THREADS})]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
labels = {{"method": "GET", "endpoint": "/api/v1/sample/add", "status": "200"}}
count = REGISTRY.get_sample_value("http_request_duration_seconds_count", labels)
print(orjson.dumps({{"errors": errors, "count": count}}).decode())
"""


@uses_subprocesses
class MetricsTest(unittest.TestCase):
    def test_observe_counts_every_request_when_threads_start_at_once(self) -> None:
        env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
        for _ in range(3):
            done = subprocess.run(
                [sys.executable, "-c", FIRST_USE_RACE], cwd=ROOT, env=env, capture_output=True, timeout=60
            )

            self.assertEqual(done.returncode, 0, done.stderr.decode())
            result = orjson.loads(done.stdout)
            self.assertEqual(result["errors"], [])
            self.assertEqual(result["count"], THREADS)
