"""Whether this server is draining before a stop: set by the gunicorn master, read by /ready in each worker.

The flag is one byte of anonymous shared memory. The master creates it before it forks the workers (see
`when_ready` in gunicorn.conf.py), so every worker, including one forked later, sees the master's writes.
Without gunicorn (`flask run`, tests) there is no flag until `start_draining` is called, and nothing drains.
"""

from __future__ import annotations

import mmap

_flag: mmap.mmap | None = None


def share_drain_flag() -> None:
    """Create the flag, to be inherited by every process forked after this call."""
    global _flag
    if _flag is None:
        _flag = mmap.mmap(-1, 1)


def start_draining() -> None:
    """Mark this server (the master and all its workers) as draining."""
    share_drain_flag()
    assert _flag is not None  # noqa: S101 (created just above)
    _flag[0] = 1


def stop_draining() -> None:
    """Clear the flag (tests)."""
    if _flag is not None:
        _flag[0] = 0


def is_draining() -> bool:
    """Tell whether a stop has begun."""
    return _flag is not None and _flag[0] == 1
