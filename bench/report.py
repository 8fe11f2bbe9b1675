"""The figures `make bench` prints: one table per endpoint, then the paired ratios project / peer."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from bench.load import Measurement

# Issue 15: on every endpoint, at least every peer's req/s at no more of its CPU per request.
TARGETS = {"rps_ratio": 1.0, "cpu_ratio": 1.0, "rss_mb": 45.0, "first_response_s": 1.0}


@dataclass
class Totals:
    """Several load runs of one endpoint on one app."""

    runs: list[Measurement] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return sum(r.requests for r in self.runs) / sum(r.seconds for r in self.runs)

    @property
    def cpu_us_per_request(self) -> float:
        return sum(r.cpu_s for r in self.runs) / sum(r.requests for r in self.runs) * 1_000_000

    @property
    def db_cpu_us_per_request(self) -> float:
        return sum(r.db_cpu_s for r in self.runs) / sum(r.requests for r in self.runs) * 1_000_000

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)


@dataclass(frozen=True)
class Spread:
    """The median and range of one set of per-round ratios."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def __str__(self) -> str:
        return f"{self.median:5.2f} ({min(self.values):.2f}-{max(self.values):.2f})"


def pair_ratios(ours: Totals, peer: Totals) -> tuple[Spread, Spread]:
    """Per round, ours/peer for req/s and for CPU per request.

    The runs of one round are back to back, so the drift of a shared machine between rounds cancels out.
    """
    rps = tuple(o.rps / p.rps for o, p in zip(ours.runs, peer.runs, strict=True))
    cpu = tuple(o.cpu_per_request / p.cpu_per_request for o, p in zip(ours.runs, peer.runs, strict=True))
    return Spread(rps), Spread(cpu)


def print_report(
    results: dict[str, dict[str, Totals]],
    projects: list[str],
    notes: dict[str, str],
    rss: dict[str, float],
    first_response: dict[str, float],
) -> dict[str, list[str]]:
    """Print the tables and ratios; return, per project server, the targets it missed."""
    missed: dict[str, list[str]] = {name: [] for name in projects}
    names = list(next(iter(results.values())))
    width = max(len(name) for name in names) + 1
    for label, totals in results.items():
        print(f"\n{label}")
        columns = ("req/s", 7), ("p50 ms", 7), ("p99 ms", 7), ("CPU us/req", 11), ("DB us/req", 10), ("errors", 6)
        print(f"  {'app':{width}} " + " ".join(f"{title:>{size}}" for title, size in columns))
        for name, total in totals.items():
            print(
                f"  {name:{width}} {total.rps:7.0f} {total.p50_ms:7.2f} {total.p99_ms:7.2f} "
                f"{total.cpu_us_per_request:11.0f} {total.db_cpu_us_per_request:10.0f} {total.errors:6d}"
            )
        peers = [name for name in names if name not in projects]
        for ours in projects if peers else []:
            print(f"  {ours} / peer, median (range) of the rounds: req/s (target >= 1), CPU per request (target <= 1)")
            for peer in peers:
                rps, cpu = pair_ratios(totals[ours], totals[peer])
                rps_ok, cpu_ok = rps.median >= TARGETS["rps_ratio"], cpu.median <= TARGETS["cpu_ratio"]
                if not rps_ok:
                    missed[ours].append(f"{label.split(' (')[0]} req/s vs {peer}")
                if not cpu_ok:
                    missed[ours].append(f"{label.split(' (')[0]} CPU vs {peer}")
                print(f"    / {peer:{width}} req/s {rps} {_mark(rps_ok)}   CPU {cpu} {_mark(cpu_ok)}")
    print("\nworker RSS after load (peak of one worker) and start to first response:")
    for name in names:
        ours = name in projects
        rss_ok, start_ok = rss[name] < TARGETS["rss_mb"], first_response[name] < TARGETS["first_response_s"]
        if ours and not rss_ok:
            missed[name].append(f"worker RSS {rss[name]:.1f} MB")
        if ours and not start_ok:
            missed[name].append(f"start {first_response[name]:.2f} s")
        rss_mark, start_mark = (_mark(rss_ok), _mark(start_ok)) if ours else ("", "")
        print(f"  {name:{width}} {rss[name]:5.1f} MB {rss_mark:6} {first_response[name]:5.2f} s {start_mark}")
    print(f"  (targets for the project: RSS < {TARGETS['rss_mb']:.0f} MB, first response < 1 s)")
    print(
        "\nCPU us/req: the app's processes (master and workers); DB us/req: the database's, during the same run"
        "\n(one embedded server for all apps; with two cores shared, its work per request bounds req/s on the create)"
    )
    print("\nwhere the apps differ in work:")
    for name in names:
        print(f"  {name}: {notes[name]}")
    print()
    for name, misses in missed.items():
        print(f"targets, {name}: " + ("all met" if not misses else "MISSED " + "; ".join(misses)))
    return missed


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"
