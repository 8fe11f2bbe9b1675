"""Start, reuse and stop the embedded MongoDB-compatible server used when no MONGODB_URI is given.

The server is SecantusDB (GPL-2.0), run as a separate `secantusd-py` process: this project never
imports it, and production always talks to a real MongoDB. Development keeps one server per
`instance/` directory alive across `flask run` restarts; tests use a throwaway in-memory server per
process.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from pymongo import MongoClient
from pymongo.errors import ConnectionFailure, PyMongoError

from dev import processes
from dev.processes import running_pid as _running_pid

SERVER_COMMAND = "secantusd-py"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
_LISTENING = re.compile(rb"listening on ([0-9.]+):(\d+)")


class EmbeddedServerError(ConnectionFailure):
    """Raised when the embedded server cannot be found, started or reached.

    A `ConnectionFailure`, so the app answers it as it answers any unreachable database (503).
    """


def server_uri(port: int) -> str:
    """Return the connection URI for an embedded server on `port`."""
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


def _find_command() -> str:
    """Locate `secantusd-py` beside the running interpreter (an unactivated venv) or on PATH."""
    beside = Path(sys.executable).with_name(SERVER_COMMAND)
    found = str(beside) if beside.exists() else shutil.which(SERVER_COMMAND)
    if not found:
        raise EmbeddedServerError(
            "MONGODB_URI is not set and the embedded server is not installed: "
            "run `pip install -r requirements/dev.txt` or set MONGODB_URI"
        )
    return found


def _ping(port: int) -> bool:
    """Tell whether a MongoDB server answers on `port`."""
    client: MongoClient = MongoClient(server_uri(port), serverSelectionTimeoutMS=2000, connectTimeoutMS=2000)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def start_server(storage_path: str, log: IO[bytes], *, durable: bool, port: int = 0) -> tuple[subprocess.Popen, int]:
    """Start a server writing its log to `log` and wait until it reports its port (any free one for 0)."""
    offset = log.tell()
    args = [_find_command(), "--host", "127.0.0.1", "--port", str(port), "--storage-path", storage_path]
    if durable:
        # Without it a killed server loses acknowledged writes.
        args.append("--sync-on-commit")
    # A session of its own: the server outlives a reloader restart and ignores the terminal's Ctrl-C.
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    with open(log.name, "rb") as reader:
        while time.monotonic() < deadline:
            reader.seek(offset)
            output = reader.read()
            match = _LISTENING.search(output)
            if match:
                return process, int(match.group(2))
            if process.poll() is not None:
                tail = output.decode(errors="replace").strip().splitlines()[-3:]
                raise EmbeddedServerError(f"embedded MongoDB exited at start: {' | '.join(tail)}")
            time.sleep(0.02)
    process.kill()
    raise EmbeddedServerError(f"embedded MongoDB did not start within {START_TIMEOUT_S:.0f} s")


def _terminate(pid: int) -> None:
    """Stop a server that another process started: SIGTERM, wait, then SIGKILL after the timeout."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _running_pid(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.05)


# --- development: one persistent server per instance directory -------------------------------


@contextmanager
def _locked(instance_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock so that two processes never start two servers on one directory."""
    # instance/ is recreated when deleted, but not the project around it: an app left running after its
    # project directory was removed (a test's scratch copy) must not bring a server back to life there.
    instance_dir.mkdir(exist_ok=True)
    with open(instance_dir / "mongodb.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _read_state(instance_dir: Path) -> dict[str, int] | None:
    """Return the pid and port recorded for the development server, if any."""
    try:
        state = json.loads((instance_dir / "mongodb.json").read_text())
        return {"pid": int(state["pid"]), "port": int(state["port"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def data_dir(instance_dir: Path) -> Path:
    """Return where the development server keeps its data."""
    return instance_dir.resolve() / "mongodb-data"


def find_orphan(instance_dir: Path) -> dict[str, int] | None:
    """Find a server holding this data directory's WiredTiger lock, with no state file to name it.

    Returns its pid and listening port, and "deleted": 1 when its directory has since been removed.
    """
    return processes.lock_holder(data_dir(instance_dir) / "WiredTiger.lock")


def dev_server_recorded(instance_dir: Path, state: dict[str, int]) -> bool:
    """Tell cheaply (no connection) whether `state` is still the recorded, running server."""
    return _read_state(instance_dir) == state and _running_pid(state["pid"])


def dev_server_status(instance_dir: Path) -> dict[str, int] | None:
    """Return the pid and port of the development server when it is up (recorded or orphaned), else None."""
    state = _read_state(instance_dir)
    if state and _running_pid(state["pid"]) and _ping(state["port"]):
        return state
    orphan = find_orphan(instance_dir)
    if orphan and _ping(orphan["port"]):
        return orphan
    return None


def ensure_dev_server_state(instance_dir: Path) -> dict[str, int]:
    """Return the pid and port of the development server: the recorded one, an orphan, or a new one.

    One server per data directory, never two: a server found by its lock is adopted, or stopped when
    its directory was deleted, before another is started.
    """
    with _locked(instance_dir):
        state = _read_state(instance_dir)
        if state and _running_pid(state["pid"]) and _ping(state["port"]):
            return state
        orphan = find_orphan(instance_dir)
        if orphan and not orphan.pop("deleted") and _ping(orphan["port"]):
            state = orphan
        else:
            if orphan:
                _terminate(orphan["pid"])  # it serves a deleted directory: nothing can use it any more
            with open(instance_dir / "mongodb.log", "ab") as log:
                process, port = start_server(str(data_dir(instance_dir)), log, durable=True)
            state = {"pid": process.pid, "port": port}
        (instance_dir / "mongodb.json").write_text(json.dumps(state))
        return state


def ensure_dev_server(instance_dir: Path) -> str:
    """Return the URI of the development server, starting it if it is not already running."""
    return server_uri(ensure_dev_server_state(instance_dir)["port"])


def stop_dev_server(instance_dir: Path) -> bool:
    """Stop the development server (recorded or orphaned); tell whether one was running."""
    with _locked(instance_dir):
        state = _read_state(instance_dir)
        if not (state and _running_pid(state["pid"])):
            state = find_orphan(instance_dir)
        (instance_dir / "mongodb.json").unlink(missing_ok=True)
        if state is None:
            return False
        _terminate(state["pid"])
        return True


# --- tests: one in-memory server per process ---------------------------------------------------

_memory_lock = threading.Lock()
_memory_server: tuple[subprocess.Popen, str] | None = None


def memory_server_uri() -> str:
    """Return the URI of this process's in-memory server, starting it on first use."""
    global _memory_server
    with _memory_lock:
        if _memory_server is None or _memory_server[0].poll() is not None:
            with tempfile.NamedTemporaryFile(prefix="secantus-", suffix=".log", delete=False) as log:
                process, port = start_server(":memory:", log, durable=False)
            _memory_server = (process, server_uri(port))
            atexit.register(_stop_memory_server, process, log.name)
        return _memory_server[1]


def _stop_memory_server(process: subprocess.Popen, log_path: str) -> None:
    """Stop an in-memory server at interpreter exit and remove its log."""
    process.kill()  # nothing to keep in memory, and SIGTERM takes about 2 s
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    Path(log_path).unlink(missing_ok=True)
