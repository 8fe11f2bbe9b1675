"""deploy/succession.py: when the watchdog deposes the leading thread of the serving worker."""

from __future__ import annotations

import threading
import time
import unittest
from collections.abc import Callable

from deploy.succession import watch


class Worker:
    """The part of deploy.gunicorn_worker.ServingWorker that succession reads and calls."""

    def __init__(self) -> None:
        self.leader = 0
        self.busy: dict[int, tuple[int, int]] = {}
        self.watched = threading.Event()
        self.deposed: list[int] = []

    def depose(self, token: int) -> None:
        self.deposed.append(token)
        self.leader = 0

    def lead(self, token: int, request: int) -> None:
        """Make the calling thread the leader, serving `request`."""
        self.leader = token
        self.busy[token] = (request, threading.get_native_id())
        self.watched.set()


class WatchTest(unittest.TestCase):
    def watched(self, worker: Worker, seconds: float) -> None:
        threading.Thread(target=watch, args=(worker, 0.002), daemon=True).start()
        time.sleep(seconds)

    def leading(self, worker: Worker, body: Callable[[threading.Event], None]) -> None:
        """Run `body(stop)` as the leader's thread until the test ends; then the watchdog goes back to sleep."""
        stop = threading.Event()
        thread = threading.Thread(target=body, args=(stop,))
        thread.start()
        self.addCleanup(worker.busy.clear)  # nobody serves: the watchdog sleeps after QUIET_S
        self.addCleanup(thread.join)
        self.addCleanup(stop.set)

    def test_a_leader_waiting_on_one_request_is_deposed(self) -> None:
        worker = Worker()

        def stuck(stop: threading.Event) -> None:
            worker.lead(3, request=1)
            stop.wait(5)  # sleeps: a slow client, a database

        self.leading(worker, stuck)
        self.watched(worker, 0.1)
        self.assertEqual(worker.deposed, [3])

    def test_a_leader_moving_from_request_to_request_stays(self) -> None:
        worker = Worker()

        def busy(stop: threading.Event) -> None:
            request = 0
            while not stop.is_set():
                request += 1
                worker.lead(4, request=request)
                time.sleep(0)

        self.leading(worker, busy)
        self.watched(worker, 0.2)
        self.assertEqual(worker.deposed, [])

    def test_a_leader_running_on_one_request_is_deposed_after_the_running_limit(self) -> None:
        worker = Worker()

        def spin(stop: threading.Event) -> None:
            worker.lead(5, request=1)
            while not stop.is_set():
                pass  # runs (holding the GIL now and then): deposed only after RUNNING_LIMIT_S

        self.leading(worker, spin)
        self.watched(worker, 0.3)
        self.assertEqual(worker.deposed, [5])
