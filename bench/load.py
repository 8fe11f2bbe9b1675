"""The load generators: wrk when installed (a Lua script sets method, body and headers), else bench/loadgen.py."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench import loadgen


@dataclass(frozen=True)
class Endpoint:
    """One benchmarked request."""

    label: str
    path: str
    method: str = "GET"
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def wrk_script(self) -> str:
        """Return the Lua script that makes wrk send this request."""
        lines = [f'wrk.method = "{self.method}"']
        if self.body is not None:
            lines.append(f"wrk.body = {orjson.dumps(self.body.decode()).decode()}")
        lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in self.headers.items()]
        return "\n".join(lines) + "\n"


@dataclass
class Measurement:
    """One load run against one app."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_s: float = 0.0  # the app's processes
    db_cpu_s: float = 0.0  # the database's, meanwhile

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_request(self) -> float:
        return self.cpu_s / self.requests if self.requests else float("inf")


def wrk(port: int, endpoint: Endpoint, seconds: float, connections: int, workdir: Path) -> Measurement:
    """Load with wrk and parse its report."""
    script = workdir / "request.lua"
    script.write_text(endpoint.wrk_script())
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


def python_load(port: int, endpoint: Endpoint, seconds: float, connections: int, workdir: Path) -> Measurement:
    """Load with bench/loadgen.py (slower than wrk: compare its ratios, not its absolute figures)."""
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
