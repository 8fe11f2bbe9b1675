"""The proxy under abuse and faults: one address holding many requests, a crashed worker on every instance.

Skipped where nginx is not installed. Everything targets 127.0.0.1; other loopback addresses (127.0.0.2,
127.0.0.3: Linux routes all of 127.0.0.0/8 to lo) stand for other clients.
"""

from __future__ import annotations

import http.client
import os
import select
import signal
import socket
import threading
import time
from collections import Counter
from pathlib import Path

from tests.deploy.harness import Topology
from tests.deploy.test_proxy import ProxyTestCase, _topology, request

PER_ADDRESS = 100  # limit_conn per_address in deploy/nginx.conf
ATTACKER, BYSTANDER = "127.0.0.3", "127.0.0.2"
LOADERS = 16
MAX_LOAD_S = 20.0
KILL_ROUNDS = 3
THREADS = 8  # per gunicorn worker


def setUpModule() -> None:
    _topology.append(Topology(GUNICORN_DRAIN_S="0", GUNICORN_THREADS=str(THREADS)))


def tearDownModule() -> None:
    while _topology:
        _topology.pop().stop()


def children(pid: int) -> list[int]:
    """Return the pids of `pid`'s child processes."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


class PerAddressLimitTest(ProxyTestCase):
    def test_one_address_holding_requests_gets_429_while_others_are_served(self) -> None:
        host, port = self.topology.base.removeprefix("http://").split(":")
        sockets: list[socket.socket] = []
        self.addCleanup(lambda: [sock.close() for sock in sockets])
        # Headers sent, body withheld: each socket holds a request nginx counts for the address.
        for _ in range(PER_ADDRESS + 50):
            sock = socket.create_connection((host, int(port)), timeout=5, source_address=(ATTACKER, 0))
            sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
            sockets.append(sock)
        # The requests over the limit are answered at once; the others stay held (for client_body_timeout).
        answered: dict[socket.socket, bytes] = {}
        deadline = time.monotonic() + 5
        while len(answered) < 50 and time.monotonic() < deadline:
            readable, _, _ = select.select([sock for sock in sockets if sock not in answered], [], [], 0.2)
            for sock in readable:
                answered[sock] = sock.recv(65536)
        time.sleep(0.2)  # an answer to one of the held requests would show up meanwhile
        readable, _, _ = select.select([sock for sock in sockets if sock not in answered], [], [], 0)
        self.assertEqual((len(answered), readable), (50, []))
        for head in answered.values():
            self.assertTrue(head.startswith(b"HTTP/1.1 429 "), head[:100])
        for _ in range(20):
            started = time.monotonic()
            self.assertEqual(request(self.topology.base, "GET", "/health", source=BYSTANDER)[0], 200)
            self.assertLess(time.monotonic() - started, 2.0)
        answer = request(self.topology.base, "GET", "/health", source=ATTACKER)
        self.assertEnvelope(answer, 429, "too_many_requests")
        self.assertEqual(answer[1]["retry-after"], "1")


class WorkerCrashTest(ProxyTestCase):
    def test_a_crashed_worker_on_every_instance_fails_no_get(self) -> None:
        masters = [pid for pid in children(self.topology.process.pid) if b"gunicorn" in self.cmdline(pid)]
        self.assertEqual(len(masters), 2)
        statuses: Counter[str] = Counter()
        lock, stop = threading.Lock(), threading.Event()
        deadline = time.monotonic() + MAX_LOAD_S

        def load() -> None:
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    status = str(request(self.topology.base, "GET", "/api/v1/sample/add?a=1&b=2")[0])
                except http.client.HTTPException:
                    # Headers sent, then the worker killed before its body: nothing a proxy can retry.
                    status = "cut short by the kill"
                except OSError as error:
                    status = repr(error)
                with lock:
                    statuses[status] += 1

        threads = [threading.Thread(target=load) for _ in range(LOADERS)]
        for thread in threads:
            thread.start()
        try:
            for _ in range(KILL_ROUNDS):
                time.sleep(0.5)
                for master in masters:  # one worker of each instance, at once, in the middle of the load
                    os.kill(children(master)[0], signal.SIGKILL)
                time.sleep(2.5)  # longer than the former fail_timeout=2s
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
        # No 502 and no refused connection: the GETs the killed workers held moved to the other instance,
        # and neither instance was taken out. Only a response already under way can die with its worker
        # (at most one per thread of each killed worker).
        cut_short = statuses.pop("cut short by the kill", 0)
        self.assertEqual(set(statuses), {"200"}, statuses)
        self.assertLessEqual(cut_short, KILL_ROUNDS * len(masters) * THREADS, statuses)

    @staticmethod
    def cmdline(pid: int) -> bytes:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
