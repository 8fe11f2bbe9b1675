"""Run the test suite: `python -m tests [--coverage] [-v] [--unit | --subprocess] [NAME ...]` (`flask test`).

Two steps: the unit tests first, then the tests marked `@uses_subprocesses` (they start gunicorn,
database servers or Python interpreters, and take most of the time). Each step prints its counts;
the last line printed is always `N passed, N failed[, N skipped]` for the whole run. The exit status
is non-zero when a test fails, when no test ran, or (with --coverage) when coverage is under the
configured minimum.
"""

from __future__ import annotations

import argparse
import os
import sys
import unittest
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class _CountingResult(unittest.TextTestResult):
    """A text result that also counts passes, so the summary is exact."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.passed = 0

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self.passed += 1

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self.passed += 1


def _load(names: list[str]) -> unittest.TestSuite:
    """Load tests by dotted name; a package name (`tests.api`) means every test module under it."""
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for name in names:
        folder = ROOT.joinpath(*name.split("."))
        if folder.is_dir():
            suite.addTest(loader.discover(str(folder), top_level_dir=str(ROOT)))
        else:
            suite.addTest(loader.loadTestsFromName(name))
    return suite


def isolate_environment(environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Remove every setting the app or its servers read, so tests see only their own (hermetic tests).

    Whatever the developer's `.env` (loaded by the flask command) or shell exports is dropped; only
    TEST_MONGODB_URI is read on purpose. Child processes (gunicorn, flask) inherit the clean environment
    and skip `.env` too.
    """
    from config import config

    settings = {name for cls in config.values() for name in dir(cls) if name.isupper()}
    for name in list(environ):
        if name in settings or name.startswith(("FLASK_", "GUNICORN_", "PROMETHEUS_")):
            del environ[name]
    environ["FLASK_APP"] = "manage:application"  # what .flaskenv says, which FLASK_SKIP_DOTENV also skips
    environ["FLASK_SKIP_DOTENV"] = "1"


def main(argv: list[str] | None = None) -> int:
    """Run the selected tests and return the process exit status."""
    isolate_environment()
    parser = argparse.ArgumentParser(prog="flask test", description=__doc__.splitlines()[0])
    parser.add_argument("--coverage", action="store_true", help="measure line coverage and print a report")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each test's name")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--unit", action="store_true", help="run only the unit tests (the fast step)")
    only.add_argument("--subprocess", action="store_true", help="run only the tests marked @uses_subprocesses")
    parser.add_argument("names", nargs="*", help="tests to run, e.g. tests.api.test_sample (default: all)")
    args = parser.parse_args(argv)

    cov = None
    if args.coverage:
        import coverage

        # Started before any application module is imported, so module-level lines count.
        cov = coverage.Coverage(config_file=str(ROOT / "pyproject.toml"))
        cov.start()

    unit, subprocess_tests = _split(_load(args.names or ["tests"]))
    steps = [("unit", unit), ("subprocess", subprocess_tests)]
    if args.unit or args.subprocess:
        steps = [step for step in steps if getattr(args, step[0])]
    runner = unittest.TextTestRunner(verbosity=2 if args.verbose else 1, resultclass=_CountingResult)
    results: list[_CountingResult] = []
    for name, suite in steps:
        if suite.countTestCases() == 0:
            continue
        print(f"== {name} tests", flush=True)
        result: _CountingResult = runner.run(suite)  # type: ignore[assignment]
        print(f"{name} tests: {_summary([result])}", flush=True)
        results.append(result)

    coverage_ok = True
    if cov is not None:
        cov.stop()
        cov.save()
        percent = cov.report(show_missing=True, skip_covered=True)
        minimum = float(cov.get_option("report:fail_under") or 0)
        coverage_ok = percent >= minimum
        print(f"coverage: {percent:.1f}% (minimum {minimum:.0f}%){'' if coverage_ok else ' -- TOO LOW'}")

    print(_summary(results), flush=True)
    ok = bool(results) and all(result.wasSuccessful() for result in results) and coverage_ok
    return 0 if ok else 1


def _split(suite: unittest.TestSuite) -> tuple[unittest.TestSuite, unittest.TestSuite]:
    """Split `suite` into the unit tests and the tests whose class is marked `@uses_subprocesses`."""
    unit, marked = unittest.TestSuite(), unittest.TestSuite()
    for test in _flatten(suite):
        (marked if getattr(type(test), "uses_subprocesses", False) else unit).addTest(test)
    return unit, marked


def _flatten(suite: unittest.TestSuite) -> list[unittest.TestCase]:
    """Return the test cases of a nested suite, in order."""
    tests: list[unittest.TestCase] = []
    for item in suite:
        tests.extend(_flatten(item) if isinstance(item, unittest.TestSuite) else [item])
    return tests


def _summary(results: list[_CountingResult]) -> str:
    """Return `N passed, N failed[, N skipped]` over `results`."""
    passed = sum(result.passed for result in results)
    failed = sum(len(r.failures) + len(r.errors) + len(r.unexpectedSuccesses) for r in results)
    skipped = sum(len(result.skipped) for result in results)
    return f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")


if __name__ == "__main__":
    sys.exit(main())
