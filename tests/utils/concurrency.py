"""Run calls at the same moment from several threads, as racing clients would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_at_once(count: int, call: Callable[[], T], *, timeout: float = 30) -> list[T]:
    """Start `call` in `count` threads released together; return their results (re-raise the first error)."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait(timeout)
        try:
            results.append(call())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]
    if len(results) != count:
        raise TimeoutError(f"{count - len(results)} of {count} calls did not finish within {timeout} s")
    return results
