"""Run the test suite: `python -m tests [--coverage] [-v] [NAME ...]`, which is what `flask test` calls.

The last line printed is always `N passed, N failed[, N skipped]`. The exit status is non-zero when a
test fails, when no test ran, or (with --coverage) when coverage is under the configured minimum.
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    """Run the selected tests and return the process exit status."""
    parser = argparse.ArgumentParser(prog="flask test", description=__doc__.splitlines()[0])
    parser.add_argument("--coverage", action="store_true", help="measure line coverage and print a report")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each test's name")
    parser.add_argument("names", nargs="*", help="tests to run, e.g. tests.api.test_sample (default: all)")
    args = parser.parse_args(argv)

    cov = None
    if args.coverage:
        import coverage

        # Started before any application module is imported, so module-level lines count.
        cov = coverage.Coverage(config_file=str(ROOT / "pyproject.toml"))
        cov.start()

    suite = _load(args.names or ["tests"])
    runner = unittest.TextTestRunner(verbosity=2 if args.verbose else 1, resultclass=_CountingResult)
    result: _CountingResult = runner.run(suite)  # type: ignore[assignment]

    coverage_ok = True
    if cov is not None:
        cov.stop()
        cov.save()
        percent = cov.report(show_missing=True, skip_covered=True)
        minimum = float(cov.get_option("report:fail_under") or 0)
        coverage_ok = percent >= minimum
        print(f"coverage: {percent:.1f}% (minimum {minimum:.0f}%){'' if coverage_ok else ' -- TOO LOW'}")

    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    summary = f"{result.passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
    print(summary, flush=True)
    ok = result.wasSuccessful() and result.testsRun > 0 and coverage_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
