"""`make bench`: the boilerplate against a bare Flask app, both under gunicorn, in one run on one machine.

Starts an embedded database, the boilerplate (`gunicorn manage:application`, production config, every
middleware on: request ids, JSON request logs, metrics, security headers, validation, error envelope)
and the reference app (`bench/reference_app.py`), both with the same `gunicorn.conf.py` and 2 workers.
Then it loads them in turn with the same generator (wrk when installed, else bench/loadgen.py) and
prints requests per second, p50/p99 latency and worker CPU time per 1000 requests, with the ratios,
plus one worker's peak memory and the time from start to the first successful response.

It prints figures and exits 0: targets are checked by reading them, never by a test.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import orjson
from argon2 import PasswordHasher
from pymongo import MongoClient

from bench import loadgen
from controller.auth import AuthSettings, authenticate, login
from controller.post import create_post
from controller.user import signup
from dev.embedded_mongo import server_uri, start_server
from model.mongodb import init_db

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TARGETS = {"rps_ratio": 0.90, "cpu_ratio": 1.25, "rss_mb": 80.0, "first_response_s": 2.0}


@dataclass
class Measurement:
    """One load run against one app."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Totals:
    """Several load runs of one endpoint on one app."""

    runs: list[Measurement] = field(default_factory=list)

    def cpu_per_request(self, index: int) -> float:
        run = self.runs[index]
        return run.cpu_s / run.requests if run.requests else float("inf")

    @property
    def rps(self) -> float:
        return sum(r.requests for r in self.runs) / sum(r.seconds for r in self.runs)

    @property
    def cpu_ms_per_1000(self) -> float:
        return sum(r.cpu_s for r in self.runs) / sum(r.requests for r in self.runs) * 1_000_000

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)


class Server:
    """A gunicorn process serving one app with the project's gunicorn.conf.py."""

    def __init__(self, name: str, target: str, port: int, env: dict[str, str], workdir: Path) -> None:
        self.name, self.target, self.port, self.env = name, target, port, env
        self.log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 (open for the server's lifetime)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start gunicorn; return the seconds from process start to the first successful response."""
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [gunicorn, "-c", "gunicorn.conf.py", self.target],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{self.port}/api/v1/sample/add?a=1&b=2"
        while time.perf_counter() - started < 30:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.005)
        raise RuntimeError(f"{self.name} did not start; see {self.log.name}")

    def workers(self) -> list[int]:
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the worker processes."""
        total = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLOCK_TICKS

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) of one worker, in MB."""
        peaks = []
        for pid in self.workers():
            match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
            peaks.append(int(match.group(1)) / 1024 if match else 0.0)
        return max(peaks)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)
        self.log.close()


@dataclass(frozen=True)
class Endpoint:
    """One benchmarked request."""

    label: str
    path: str
    method: str = "GET"
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wrk(port: int, endpoint: Endpoint, seconds: float, connections: int, workdir: Path) -> Measurement:
    """Load with wrk (a Lua script sets the method, body and headers) and parse its report."""
    script = workdir / "request.lua"
    lines = [f'wrk.method = "{endpoint.method}"']
    if endpoint.body is not None:
        lines.append(f"wrk.body = {orjson.dumps(endpoint.body.decode()).decode()}")
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in endpoint.headers.items()]
    script.write_text("\n".join(lines) + "\n")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--latency", "-s", str(script)]
    out = subprocess.run([*command, f"http://127.0.0.1:{port}{endpoint.path}"], capture_output=True, text=True).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if done is None:
        raise RuntimeError(f"could not read wrk's report:\n{out}")
    elapsed = float(done.group(2)) / (1000 if done.group(3) == "ms" else 1)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Measurement(
        requests=int(done.group(1)),
        errors=(int(non_2xx.group(1)) if non_2xx else 0) + socket_errors,
        seconds=elapsed,
        p50_ms=_wrk_percentile(out, "50"),
        p99_ms=_wrk_percentile(out, "99"),
    )


def _wrk_percentile(report: str, percent: str) -> float:
    match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)$", report, re.MULTILINE)
    if match is None:
        return 0.0
    return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]


def _python_load(port: int, endpoint: Endpoint, seconds: float, connections: int, workdir: Path) -> Measurement:
    result = loadgen.run(
        "127.0.0.1",
        port,
        endpoint.path,
        seconds=seconds,
        connections=connections,
        method=endpoint.method,
        body=endpoint.body,
        headers=endpoint.headers,
    )
    return Measurement(result.requests, result.errors, result.seconds, result.percentile(0.5), result.percentile(0.99))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4, help="length of each load run (default 4)")
    parser.add_argument("--rounds", type=int, default=5, help="load runs per app and endpoint (default 5)")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (default 4)")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args(argv)
    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk"))
    load = _wrk if use_wrk else _python_load

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    with open(workdir / "db.log", "wb") as db_log:
        database, db_port = start_server(":memory:", db_log, durable=False)
    servers: list[Server] = []
    try:
        secret = secrets.token_urlsafe(48)
        auth = AuthSettings(
            secret, timedelta(hours=1), timedelta(days=1), PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        db = MongoClient(server_uri(db_port), tz_aware=True)["bench"]
        init_db(db)
        password = secrets.token_urlsafe(16)
        user = signup(db, auth, email="bench@example.com", password=password, name="Bench")
        token = login(db, auth, email=user["email"], password=password)["access_token"]
        post = create_post(db, authenticate(db, auth, token), title="Benchmark", body="Text " * 40, status="published")

        common = {
            **os.environ,
            "SECRET_KEY": secret,
            "MONGODB_URI": server_uri(db_port),
            "MONGODB_DB": "bench",
            "GUNICORN_WORKERS": "2",
            "GUNICORN_DRAIN_S": "0",  # nothing balances load here: stop at once
            "FLASK_CONFIG": "production",
        }
        apps = {}
        for name, target in (("reference", "bench.reference_app:create_app()"), ("boilerplate", "manage:application")):
            port = _free_port()
            env = {**common, "GUNICORN_BIND": f"127.0.0.1:{port}", "PROMETHEUS_MULTIPROC_DIR": str(workdir / name)}
            servers.append(Server(name, target, port, env, workdir))
            apps[name] = servers[-1]
        first_response = {name: server.start() for name, server in apps.items()}

        body = orjson.dumps({"title": "Benchmark post", "body": "Some text for the benchmark."})
        json_auth = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        endpoints = [
            Endpoint("GET /api/v1/sample/add (no database)", "/api/v1/sample/add?a=1&b=2"),
            Endpoint("GET /api/v1/posts/<id> (one indexed read)", f"/api/v1/posts/{post['id']}"),
            Endpoint("POST /api/v1/posts (auth + one insert)", "/api/v1/posts", "POST", body, json_auth),
        ]
        print(
            f"load generator: {'wrk' if use_wrk else 'bench/loadgen.py (Python)'}, {args.connections} connections, "
            f"{args.rounds} rounds x {args.seconds:.0f} s per app and endpoint, apps loaded in turn\n"
        )
        results: dict[str, dict[str, Totals]] = {}
        for endpoint in endpoints:
            totals = {name: Totals() for name in apps}
            for server in apps.values():  # warm-up: imports, connection pools, caches
                load(server.port, endpoint, 1, args.connections, workdir)
            for round_number in range(args.rounds):
                order = list(apps.items()) if round_number % 2 == 0 else list(reversed(apps.items()))
                for name, server in order:
                    before = server.cpu_seconds()
                    measurement = load(server.port, endpoint, args.seconds, args.connections, workdir)
                    measurement.cpu_s = server.cpu_seconds() - before
                    totals[name].runs.append(measurement)
            results[endpoint.label] = totals
        _report(results, first_response, {name: s.peak_rss_mb() for name, s in apps.items()})
    finally:
        for server in servers:
            server.stop()
        database.terminate()
        database.wait(30)
        print(f"\nlogs: {workdir}")
    return 0


def _pair_ratios(boiler: Totals, reference: Totals) -> tuple[list[float], list[float]]:
    """Per round, the boilerplate/reference ratios of req/s and of CPU per request.

    The two runs of a round are back to back, so a shared machine's drift between rounds cancels out.
    """
    rps = [b.rps / r.rps for b, r in zip(boiler.runs, reference.runs, strict=True)]
    cpu = [boiler.cpu_per_request(i) / reference.cpu_per_request(i) for i in range(len(boiler.runs))]
    return rps, cpu


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (rounds {min(values):.3f}-{max(values):.3f})"


def _report(results: dict[str, dict[str, Totals]], first_response: dict[str, float], rss: dict[str, float]) -> None:
    header = f"{'endpoint':44} {'app':12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/1k req':>14} {'errors':>7}"
    print(header)
    print("-" * len(header))
    for label, totals in results.items():
        for name, total in totals.items():
            print(
                f"{label:44} {name:12} {total.rps:8.0f} {total.p50_ms:8.2f} {total.p99_ms:8.2f} "
                f"{total.cpu_ms_per_1000:14.0f} {total.errors:7d}"
            )
    print("\nboilerplate / reference, median of the per-round ratios:")
    for index, (label, totals) in enumerate(results.items()):
        rps, cpu = _pair_ratios(totals["boilerplate"], totals["reference"])
        if index == 0:
            verdict = _verdict(statistics.median(rps) >= TARGETS["rps_ratio"], f"target >= {TARGETS['rps_ratio']:.2f}")
            print(f"{label}: req/s ratio {_spread(rps)} {verdict}; CPU ratio {_spread(cpu)}")
        else:
            verdict = _verdict(statistics.median(cpu) <= TARGETS["cpu_ratio"], f"target <= {TARGETS['cpu_ratio']:.2f}")
            print(f"{label}: CPU per request ratio {_spread(cpu)} {verdict}; req/s ratio {_spread(rps)}")
    rss_ok = rss["boilerplate"] < TARGETS["rss_mb"]
    start_ok = first_response["boilerplate"] <= TARGETS["first_response_s"]
    print(
        f"peak RSS of one worker: boilerplate {rss['boilerplate']:.1f} MB {_verdict(rss_ok, 'target < 80 MB')}, "
        f"reference {rss['reference']:.1f} MB"
    )
    print(
        f"start to first response: boilerplate {first_response['boilerplate']:.2f} s "
        f"{_verdict(start_ok, 'target <= 2 s')}, reference {first_response['reference']:.2f} s"
    )


def _verdict(ok: bool, target: str) -> str:
    return f"({'met' if ok else 'MISSED'}, {target})"


if __name__ == "__main__":
    sys.exit(main())
