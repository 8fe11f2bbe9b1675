"""Start and stop what a test runs: a process group it launches, the embedded servers under a scratch directory."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def kill_servers_under(directory: Path) -> list[int]:
    """SIGKILL every process whose command line names a path under `directory`; return their pids.

    A development server runs detached (it outlives the app that started it, by design), so a test that
    makes one in a scratch project or instance directory must end it itself; its data is thrown away.
    """
    prefix = str(directory.resolve())
    killed = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            arguments = (proc / "cmdline").read_bytes().split(b"\0")
            if any(argument.decode(errors="replace").startswith(prefix) for argument in arguments):
                os.kill(int(proc.name), signal.SIGKILL)
                killed.append(int(proc.name))
    return killed


def start_group(command: list[str], env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start `command` from the project root as the leader of a new process group, its output discarded.

    `stop_group` stops it with everything it started (a gunicorn master's workers, a worker's pool).
    """
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_group(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Send `sig` to the process group `process` leads (start_new_session=True) and wait for it.

    A warm shutdown that hangs must not hang the suite: after 10 s the group is killed.
    """
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
