"""`python -m bench.profile`: what the middleware costs per request, measured in-process, no server.

Calls the production app's WSGI callable directly for GET /api/v1/sample/add (no database), once through
the request middleware and once through the app it wraps, in alternating blocks, and prints the
difference per request: request id, security headers, metrics sample and log line together. It counts
the process's CPU time, not the wall clock, so other work on a shared machine inflates it less. Then it
times each part alone and, with --cprofile, prints the profile of the full path.
With --server NAME (an app of bench/run.py) it profiles a real server instead: it starts NAME with the
benchmark's database, loads it with wrk, samples one worker with py-spy and prints the share of samples
inside the WSGI application and outside it (the server's own HTTP and socket work).
Log lines go to /dev/null, as fast a stream as any; a real stdout pipe costs under 1 µs more per write
(docs/logging.md).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import logging
import os
import pstats
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.test import EnvironBuilder

PATH = "/api/v1/sample/add?a=1&b=2"


def _app() -> Any:
    os.environ.update(
        {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "MONGODB_URI": "mongodb://127.0.0.1:9",  # never connected: this endpoint reads no database
            "MAIL_SERVER": "127.0.0.1",  # required in production; nothing here sends mail
            "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="profile-metrics-"),
        }
    )
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the log stream, for the process's life)
    from app import create_app

    return create_app("production")


def _per_request_us(wsgi: Callable[..., Any], environ: dict[str, Any], count: int) -> float:
    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        return None

    started = time.process_time()
    for _ in range(count):
        body = wsgi(dict(environ), start_response)
        for _chunk in body:
            pass
        getattr(body, "close", lambda: None)()
    return (time.process_time() - started) / count * 1e6


def _parts(app: Any) -> dict[str, Callable[[], Any]]:
    """Each piece of the middleware's work alone, as it runs per request."""
    import random

    from app.http import middleware
    from app.services import metrics
    from app.services.json_logging import log_fields

    wrapper = app.wsgi_app
    fields = {"request_id": "0" * 32, "method": "GET", "path": "/api/v1/sample/add", "status": 200}
    fields |= {"duration_ms": 0.41, "client": "127.0.0.1", "user_id": None}
    headers = [("Content-Type", "application/json"), ("Content-Length", "12")]
    return {
        "request id": lambda: f"{random.getrandbits(128):032x}",
        "metrics sample": lambda: metrics.observe("GET", "/api/v1/sample/add", 200, 0.0004),
        "log line": lambda: log_fields(app.logger, logging.INFO, "request", fields),
        "security headers": lambda: [
            *headers,
            *wrapper.static_headers,
            ("Content-Security-Policy", middleware.content_security_policy("/api/v1/sample/add")),
        ],
    }


def profile_server(name: str, endpoint: int = 0, seconds: int = 8) -> None:
    """Sample one worker of a server under wrk load with py-spy; print where its time goes."""
    from bench.fixtures import start_database, stop_database
    from bench.run import _endpoints, _start_servers
    from bench.servers import venv_command

    workdir = Path(tempfile.mkdtemp(prefix="profile-"))
    fixtures = start_database(workdir)
    server = _start_servers([name], fixtures, workdir)[name]
    raw = workdir / "py-spy.txt"
    try:
        server.start()
        target = _endpoints(fixtures)[endpoint]
        script = workdir / "request.lua"
        script.write_text(target.wrk_script())
        command = [
            "wrk",
            "-t1",
            "-c8",
            f"-d{seconds + 4}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{server.port}{target.path}",
        ]
        load = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        time.sleep(2)
        spy = [
            venv_command("py-spy"),
            "record",
            "--gil",
            "--nonblocking",
            "-r",
            "200",
            "-d",
            str(seconds),
            "--format",
            "raw",
        ]
        subprocess.run([*spy, "-o", str(raw), "-p", str(server.workers()[0])], capture_output=True, check=True)
        load.wait()
    finally:
        server.stop()
        stop_database(fixtures)
    inside, total = 0, 0
    leaves, inclusive = collections.Counter[str](), collections.Counter[str]()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue  # --nonblocking reads a live process: now and then a frame's name is garbage
        frames = stack.split(";")
        total += int(count)
        inside += int(count) if any(".wsgi_app (flask/app.py" in frame for frame in frames) else 0
        leaves[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    print(f"{name}, {target.label} under wrk -c8: {total} py-spy samples of one worker (200 Hz, {seconds} s)")
    print(f"  inside Flask's wsgi_app (the application): {inside / total:.0%}")
    print(f"  outside it (the server's HTTP and socket work, the middleware): {1 - inside / total:.0%}")
    print("  frames holding the GIL longest, alone / with what they called:")
    for frame, count in leaves.most_common(8):
        print(f"    {count / total:5.1%} {frame}")
    for frame, count in inclusive.most_common(25):
        print(f"    {count / total:5.1%} incl. {frame}")


def main(argv: list[str] | None = None) -> int:
    """Measure and print the middleware's cost per request."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per block (default 5000)")
    parser.add_argument("--blocks", type=int, default=7, help="alternating blocks (default 7)")
    parser.add_argument("--cprofile", action="store_true", help="also print a cProfile of the full path")
    parser.add_argument("--server", help="profile this app of bench/run.py under load with py-spy instead")
    parser.add_argument("--endpoint", type=int, default=0, help="with --server: 0 add, 1 read post, 2 create post")
    args = parser.parse_args(argv)
    if args.server:
        profile_server(args.server, args.endpoint)
        return 0
    out = sys.stdout
    app = _app()
    environ = EnvironBuilder(path=PATH, base_url="http://127.0.0.1").get_environ()
    outer, inner = app.wsgi_app, app.wsgi_app.wsgi_app
    _per_request_us(outer, environ, 500)  # warm-up: first-use caches, metric children
    with_mw, without_mw = [], []
    for _ in range(args.blocks):
        with_mw.append(_per_request_us(outer, environ, args.requests))
        without_mw.append(_per_request_us(inner, environ, args.requests))
    diffs = [w - o for w, o in zip(with_mw, without_mw, strict=True)]
    print(f"GET {PATH}, {args.blocks} blocks x {args.requests} requests, in-process", file=out)
    print(f"  app with middleware    {statistics.median(with_mw):7.1f} us/request", file=out)
    print(f"  app without middleware {statistics.median(without_mw):7.1f} us/request", file=out)
    print(
        f"  middleware             {statistics.median(diffs):7.1f} us/request "
        f"(blocks {min(diffs):.1f}-{max(diffs):.1f}; target < 100)",
        file=out,
    )
    for name, part in _parts(app).items():
        started = time.process_time()
        for _ in range(args.requests):
            part()
        print(f"    {name:18} {(time.process_time() - started) / args.requests * 1e6:7.1f} us", file=out)
    if args.cprofile:
        profiler = cProfile.Profile()
        profiler.runcall(_per_request_us, outer, environ, args.requests)
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
