"""`make bench`: the project against its peers (bare Flask, APIFlask, FastAPI), in one run on one machine.

Starts an embedded database, then every app with 2 workers: the project (`gunicorn manage:application`,
production config, every middleware on) and the same WSGI application under granian, and the peers of
bench/peers/ (the same three endpoints, the same validation and database work). It loads them in turn
with the same generator (wrk when installed, else bench/loadgen.py), round after round, and prints per
endpoint req/s, p50/p99 latency, app CPU per request (master and workers, read from /proc, so the
database's own CPU is excluded) and the database's CPU per request during the same run, then the median
and range of the per-round ratios project / peer, each worker's peak RSS and the time from start to the
first successful response.

It prints figures and exits 0: targets are checked by reading them, never by a test. A run in which any
app answered an error (non-2xx or socket error) measured something else: it says which and exits 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import orjson

from bench.fixtures import Fixtures, start_database, stop_database
from bench.load import Endpoint, Measurement, python_load, wrk
from bench.report import Totals, print_report
from bench.servers import Server, cpu_seconds, free_port, process_tree, venv_command

PROJECT_WORK = (
    "request id, JSON log line, Prometheus metrics, security headers, error envelope, OpenAPI validation; "
    "GET /posts also looks for an optional bearer token; the create also reads the account (role, token version, "
    "disabled) in the same round trip as the revocation lookup, and reads it once more after the insert (one round "
    "trip more than the peers: a post made while its account is deleted does not outlive it)"
)
PEER_GUNICORN = "gunicorn -c bench/peers/gunicorn_settings.py"
GTHREAD = "gunicorn's own gthread workers, 8 threads (the project's thread settings)"
SERVING = (
    "gunicorn, the project's worker (deploy/gunicorn_worker.py: gthread, one leading thread serves the kept-alive "
    "connections, baton), 8 threads"
)
PEER_WORK = "same validation limits, same JWT check + revocation lookup on the create; no request id/log/metrics"
APPS: dict[str, tuple[str, str]] = {
    "project": ("gunicorn -c gunicorn.conf.py manage:application", SERVING + "; " + PROJECT_WORK),
    "project-granian": (
        "python deploy/granian_server.py",
        "granian WSGI (Rust HTTP/1.1 server, 8 blocking threads per worker); " + PROJECT_WORK,
    ),
    "flask": (
        f"{PEER_GUNICORN} bench.peers.flask_app:create_app()",
        "bare Flask + pymongo on " + GTHREAD + ", validated by hand; " + PEER_WORK,
    ),
    "apiflask": (
        f"{PEER_GUNICORN} bench.peers.apiflask_app:create_app()",
        "APIFlask on " + GTHREAD + ", marshmallow schemas in and out; " + PEER_WORK,
    ),
    "fastapi": (
        f"{PEER_GUNICORN} -k uvicorn_worker.UvicornWorker bench.peers.fastapi_app:create_app()",
        "FastAPI on gunicorn + uvicorn workers (httptools, uvloop), pydantic v2 in and out, "
        "handlers in its thread pool; " + PEER_WORK,
    ),
}
PROJECTS = ["project", "project-granian"]


def _start_servers(names: list[str], fixtures: Fixtures, workdir: Path) -> dict[str, Server]:
    common = {
        **os.environ,
        "SECRET_KEY": fixtures.secret,
        "MONGODB_URI": fixtures.uri,
        "MONGODB_DB": "bench",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_DRAIN_S": "0",  # nothing balances load here: stop at once
        "GRANIAN_WORKERS": "2",
        "FLASK_CONFIG": "production",
        "MAIL_SERVER": "127.0.0.1",  # required in production; no benchmarked endpoint sends mail
    }
    servers = {}
    for name in names:
        port = free_port()
        command = APPS[name][0].split()
        metrics_dir = workdir / f"metrics-{name}"
        metrics_dir.mkdir()
        env = {
            **common,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GRANIAN_HOST": "127.0.0.1",
            "GRANIAN_PORT": str(port),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        }
        servers[name] = Server(name, [venv_command(command[0]), *command[1:]], port, env, workdir)
    return servers


def _endpoints(fixtures: Fixtures) -> list[Endpoint]:
    body = orjson.dumps({"title": "Benchmark post", "body": "Some text for the benchmark."})
    json_auth = {"Content-Type": "application/json", "Authorization": f"Bearer {fixtures.token}"}
    return [
        Endpoint("GET /api/v1/sample/add (validation, no database)", "/api/v1/sample/add?a=1&b=2"),
        Endpoint("GET /api/v1/posts/<id> (one indexed read)", f"/api/v1/posts/{fixtures.post_id}"),
        Endpoint("POST /api/v1/posts (JWT + revocation lookup + insert)", "/api/v1/posts", "POST", body, json_auth),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="make bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="length of each load run (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="load runs per app and endpoint (default 3)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--apps", default=",".join(APPS), help=f"comma-separated subset of {','.join(APPS)}")
    args = parser.parse_args(argv)
    names = [name for name in args.apps.split(",") if name in APPS]
    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk"))
    load = wrk if use_wrk else python_load

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    fixtures = start_database(workdir)
    servers: dict[str, Server] = {}
    failed: list[str] = []
    try:
        servers = _start_servers(names, fixtures, workdir)
        first_response = {name: server.start() for name, server in servers.items()}
        database = process_tree(fixtures.database.pid)
        print(
            f"load generator: {'wrk -t1' if use_wrk else 'bench/loadgen.py (Python)'}, {args.connections} connections, "
            f"{args.rounds} rounds x {args.seconds:.0f} s per app and endpoint, apps loaded in turn "
            f"(order rotated each round); 2 workers each; {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.2f} at start"
        )
        results: dict[str, dict[str, Totals]] = {}
        for endpoint in _endpoints(fixtures):
            totals = {name: Totals() for name in servers}
            for server in servers.values():  # warm-up: imports, connection pools, caches
                load(server.port, endpoint, 1, args.connections, workdir)
            for round_number in range(args.rounds):
                order = list(servers.values())
                shift = round_number % len(order)
                for server in order[shift:] + order[:shift]:
                    before, db_before = server.cpu_seconds(), cpu_seconds(database)
                    measurement: Measurement = load(server.port, endpoint, args.seconds, args.connections, workdir)
                    measurement.cpu_s = server.cpu_seconds() - before
                    measurement.db_cpu_s = cpu_seconds(database) - db_before
                    totals[server.name].runs.append(measurement)
            results[endpoint.label] = totals
        print_report(
            results,
            [name for name in PROJECTS if name in servers],
            {name: APPS[name][1] for name in servers},
            {name: server.worker_rss_mb() for name, server in servers.items()},
            first_response,
        )
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
        failed = [
            f"{name} answered {total.errors} errors on {label}"
            for label, totals in results.items()
            for name, total in totals.items()
            if total.errors
        ]
        for line in failed:
            print(f"INVALID RUN: {line} (see its log below)")
    finally:
        for server in servers.values():
            server.stop()
        stop_database(fixtures)
        print(f"logs: {workdir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
