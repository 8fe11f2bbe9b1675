"""The benchmarked servers: one process tree each, measured from /proc (the database is measured apart)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def venv_command(name: str) -> str:
    """Return the path of a console script installed beside this Python."""
    return str(Path(sys.executable).with_name(name))


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def process_tree(pid: int) -> list[int]:
    """A process and every process below it."""
    pids, index = [pid], 0
    while index < len(pids):
        pids += _children(pids[index])
        index += 1
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system, every thread) used so far by these processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


class Server:
    """One app served by one command: a master (or main) process and its worker processes."""

    def __init__(self, name: str, command: list[str], port: int, env: dict[str, str], workdir: Path) -> None:
        self.name, self.command, self.port, self.env = name, command, port, env
        self.log = open(workdir / f"{name.replace(' ', '-')}.log", "wb")  # noqa: SIM115 (kept for the run)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start the server; return the seconds from process start to the first successful response."""
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log, start_new_session=True
        )
        url = f"http://127.0.0.1:{self.port}/api/v1/sample/add?a=1&b=2"
        while time.perf_counter() - started < 30 and self.process.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.005)
        raise RuntimeError(f"{self.name} did not start; see {self.log.name}")

    def workers(self) -> list[int]:
        """The worker processes: the master's direct children."""
        return _children(self.process.pid) if self.process else []

    def cpu_seconds(self) -> float:
        """CPU time (user + system, every thread) used so far by the master and its workers."""
        return cpu_seconds(process_tree(self.process.pid)) if self.process else 0.0

    def worker_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) of one worker, in MB."""
        peaks = [0.0]
        for pid in self.workers():
            match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
            peaks.append(int(match.group(1)) / 1024 if match else 0.0)
        return max(peaks)

    def stop(self) -> None:
        """Stop the server with SIGTERM (its graceful shutdown), then close its log."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log.close()
