"""deploy/client_timeouts.py under gunicorn: clients that stall or trickle lose their thread after the limit,
clients that make progress keep it (GUNICORN_CLIENT_TIMEOUT=1 here; 10 s by default, as nginx)."""

from __future__ import annotations

import json
import socket
import threading
import time

from tests.base import uses_subprocesses
from tests.deploy.worker_server import WorkerServerCase

LIMIT_S = 1.0
# The main loop looks at the heads about once a second: a late head is cut off within a second of its deadline.
CUT_OFF_WITHIN_S = LIMIT_S + 1.5


@uses_subprocesses
class ClientTimeoutsTest(WorkerServerCase):
    """One worker with 2 threads: two stuck clients would hold every thread without the limits."""

    settings = {"GUNICORN_CLIENT_TIMEOUT": str(LIMIT_S)}

    def open(self, receive_buffer: int | None = None) -> socket.socket:
        sock = socket.socket()
        self.addCleanup(sock.close)
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.settimeout(15)
        sock.connect(("127.0.0.1", self.port))
        return sock

    def read_to_end(self, sock: socket.socket) -> bytes:
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return received

    def assert_answered_408_in_time(self, sock: socket.socket, started: float) -> None:
        answer = self.read_to_end(sock)
        self.assertLess(time.monotonic() - started, CUT_OFF_WITHIN_S)
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 408 "), answer)
        self.assertIn(b"Connection: close", head)
        self.assertEqual(json.loads(body)["error"]["code"], "request_timeout")

    def test_a_request_head_that_stops_arriving_is_answered_408(self) -> None:
        sock = self.open()
        started = time.monotonic()
        sock.sendall(b"GET /?half=1 HTTP/1.1\r\nHost: x\r\n")
        self.assert_answered_408_in_time(sock, started)

    def test_a_head_dripped_a_byte_at_a_time_is_cut_off(self) -> None:
        # Every byte comes well within the limit, but the head would take 30 s to arrive.
        sock = self.open()
        head = b"GET /?drip=1 HTTP/1.1\r\nX-Padding: " + b"a" * 300 + b"\r\n\r\n"
        stop = threading.Event()

        def drip() -> None:
            for byte in head:
                if stop.wait(0.1):
                    return
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    return

        dripper = threading.Thread(target=drip)
        started = time.monotonic()
        dripper.start()
        self.addCleanup(dripper.join)
        self.addCleanup(stop.set)
        self.assert_answered_408_in_time(sock, started)

    def test_stalled_bodies_and_unread_responses_give_their_threads_back(self) -> None:
        stalled_body = self.open()
        stalled_body.sendall(b"POST /?read=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        unread = self.open(receive_buffer=4096)
        unread.sendall(b"GET /?size=20000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)  # both threads are taken now, one reading, one writing
        started = time.monotonic()
        answer = self.read_to_end(self.sent(b"GET /?after=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        self.assertTrue(answer.endswith(b"after=1"), answer)
        self.assertLess(time.monotonic() - started, CUT_OFF_WITHIN_S)
        self.assertEqual(self.read_to_end(stalled_body), b"", "the stalled body's connection is closed unanswered")
        time.sleep(max(0.0, started + LIMIT_S + 0.5 - time.monotonic()))  # its writer has given up by now
        received = len(self.read_to_end(unread))
        self.assertLess(received, 20_000_000, "the response was cut off when its client stopped reading")

    def test_clients_that_make_progress_are_served_however_long_they_take(self) -> None:
        # Each piece comes within the limit; the whole body takes three times as long.
        sock = self.open()
        sock.sendall(b"POST /?read=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nConnection: close\r\n\r\n")
        for byte in b"abcdef":
            time.sleep(LIMIT_S / 2)
            sock.sendall(bytes([byte]))
        self.assertTrue(self.read_to_end(sock).startswith(b"HTTP/1.1 200 "))
        slow_reader = self.sent(b"GET /?size=3000000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 65536)
        received = b""
        while chunk := slow_reader.recv(500_000):
            received += chunk
            time.sleep(LIMIT_S / 4)
        self.assertEqual(len(received.partition(b"\r\n\r\n")[2]), 3_000_000)

    def sent(self, request: bytes, receive_buffer: int | None = None) -> socket.socket:
        sock = self.open(receive_buffer)
        sock.sendall(request)
        return sock
