"""The closing line of CI's test run, `N passed, N failed, N skipped`, true on success and on failure.

python3 build-support/ci/summarize_test_reports.py [--log FILE] [--pants-exit-code N] [REPORT_DIR]

Two sources, both written by Pants 2.17 itself:
- the JUnit XML of each test file, which `pants test` writes to `[test].report_dir` (dist/test/reports) once
  every test process has ended, failing ones included;
- the console log of `pants test` (`--log`), in which Pants prints each test process's result as it ends
  ("Completed: Run Pytest - <target> - succeeded." plus pytest's output when `[test].output = "all"`).
  This covers a run that Pants aborted before it wrote the reports, and a test process that ended without a
  report (a timeout, a crash of the interpreter): such a file counts as one failure, named.

Zero tests is a failure, like pytest's exit 5; so is a Pants exit code other than 0 with no failed test
(the problem is then outside the tests, and the line says so).
"""

from __future__ import annotations

import argparse
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# "09:31:06.20 [ERROR] Completed: Run Pytest - pipelines/x_test.py:tests - failed (exit code 1)."
_COMPLETED = re.compile(r"\[(?:INFO|WARN|ERROR)\] Completed: Run Pytest - (\S+) - (succeeded|failed)")
_LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d\d \[[A-Z]+\] ")
# pytest's closing line: "==== 1 failed, 3 passed, 1 skipped in 0.05s ====".
_PYTEST_CLOSING = re.compile(r"^=+ (.+) in [\d.]+s(?: \([^)]*\))? =+$")
_PYTEST_COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?)")


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.failures.extend(other.failures)


@dataclass(frozen=True)
class LoggedResult:
    """One test process as the console log shows it."""

    target: str
    succeeded: bool
    counts: Counts | None


def report_name(target: str) -> str:
    """The name of a target's JUnit report: `tests/a_test.py:tests` -> `tests.a_test.py.tests.xml`."""
    return target.replace("/", ".").replace(":", ".") + ".xml"


def counts_from_report(report: Path) -> Counts:
    counts = Counts()
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("skipped") is not None:
            counts.skipped += 1
        elif case.find("failure") is not None or case.find("error") is not None:
            counts.failed += 1
            counts.failures.append(name)
        else:
            counts.passed += 1
    return counts


def counts_from_pytest_closing(line: str) -> Counts | None:
    match = _PYTEST_CLOSING.match(line.strip())
    if not match:
        return None
    counts = Counts()
    for number, kind in _PYTEST_COUNT.findall(match.group(1)):
        if kind == "passed" or kind == "xpassed":
            counts.passed += int(number)
        elif kind in ("failed", "error", "errors"):
            counts.failed += int(number)
        elif kind in ("skipped", "xfailed"):
            counts.skipped += int(number)
    return counts


def logged_results(lines: Iterable[str]) -> Iterator[LoggedResult]:
    """Each "Completed: Run Pytest" entry of the log, with the counts of the pytest output under it."""
    current: tuple[str, bool] | None = None
    counts: Counts | None = None
    for line in lines:
        if _LOG_LINE.match(line):
            if current:
                yield LoggedResult(*current, counts)
                current, counts = None, None
            if match := _COMPLETED.search(line):
                current = (match.group(1), match.group(2) == "succeeded")
        elif current and (closing := counts_from_pytest_closing(line)):
            counts = closing
        elif current and not line.startswith((" ", "\t")) and line[:2] in ("✓ ", "✕ "):
            # The goal's own summary follows the last result.
            yield LoggedResult(*current, counts)
            current, counts = None, None
    if current:
        yield LoggedResult(*current, counts)


def summarize(report_dir: Path, log_lines: Iterable[str]) -> tuple[Counts, list[str]]:
    """Counts over every test file, and a note for each file whose tests could not be counted."""
    reports = (
        {report.name: report for report in sorted(report_dir.rglob("*.xml"))} if report_dir.is_dir() else {}
    )
    logged = {result.target: result for result in logged_results(log_lines)}
    total = Counts()
    notes: list[str] = []
    counted_reports: set[str] = set()
    for target, result in sorted(logged.items()):
        name = report_name(target)
        if name in reports:
            total.add(counts_from_report(reports[name]))
            counted_reports.add(name)
        elif result.counts is not None:
            total.add(result.counts)
        elif not result.succeeded:
            total.add(
                Counts(failed=1, failures=[f"{target} (no per-test result: timeout or crash, see the log)"])
            )
        else:
            notes.append(f'{target} succeeded but printed no counts (run with [test].output = "all")')
    for name, report in reports.items():
        if name not in counted_reports:
            total.add(counts_from_report(report))
    return total, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("report_dir", nargs="?", type=Path, default=Path("dist/test/reports"))
    parser.add_argument("--log", type=Path, help="the console output of `pants test`")
    parser.add_argument("--pants-exit-code", type=int, default=0)
    args = parser.parse_args(argv)

    log_lines: list[str] = []
    if args.log:
        log_lines = args.log.read_text(encoding="utf-8", errors="replace").splitlines()
    total, notes = summarize(args.report_dir, log_lines)
    for failure in total.failures:
        print(f"failed: {failure}")
    for note in notes:
        print(f"note: {note}")
    if total.passed + total.failed == 0:
        print(f"No test ran (no JUnit report under {args.report_dir}, no result in the log): a failure.")
        return 1
    if args.pants_exit_code and not total.failed:
        print(f"pants test exited {args.pants_exit_code} although no test failed: see its log above.")
    print(f"{total.passed} passed, {total.failed} failed, {total.skipped} skipped")
    return 1 if total.failed or args.pants_exit_code else 0


if __name__ == "__main__":
    sys.exit(main())
