"""Facts about other processes read from /proc (Linux): liveness, a lock's holder, a listening port."""

from __future__ import annotations

import os
from pathlib import Path


def running_pid(pid: int) -> bool:
    """Tell whether a live (not zombie) process has this pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # A zombie still answers kill(0) but serves nothing.
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"
    except OSError:
        return True


def lock_holder(lock: Path) -> dict[str, int] | None:
    """Return the pid and TCP listening port of the process holding `lock` open, or None.

    "deleted" is 1 when the file has been removed since (the holder keeps serving a directory that is gone).
    """
    wanted = (str(lock), f"{lock} (deleted)")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:
            continue  # gone meanwhile, or another user's
        held = [target for target in links if target in wanted]
        if not held:
            continue
        port = listening_port({target[8:-1] for target in links if target.startswith("socket:[")})
        if port is not None:
            return {"pid": int(proc.name), "port": port, "deleted": int(held[0].endswith("(deleted)"))}
    return None


def listening_port(inodes: set[str]) -> int | None:
    """Return the TCP port listened on through one of these socket inodes, from /proc/net/tcp."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                return int(fields[1].rsplit(":", 1)[1], 16)
    return None
