"""The closing count line from real pytest runs: their JUnit reports, and the console log Pants prints."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _load_summarizer() -> ModuleType:
    # build-support/ is not importable as a package: load the sibling script by file.
    path = Path(__file__).with_name("summarize_test_reports.py")
    spec = importlib.util.spec_from_file_location("summarize_test_reports", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


summarizer = _load_summarizer()
main = summarizer.main
report_name = summarizer.report_name

PASSING = "def test_a() -> None:\n    assert True\n\n\ndef test_b() -> None:\n    assert True\n"
MIXED = (
    "import pytest\n\n\ndef test_ok() -> None:\n    assert True\n\n\n"
    "def test_broken() -> None:\n    assert 1 == 2\n\n\n"
    "@pytest.mark.skip(reason='not here')\ndef test_skipped() -> None:\n    pass\n"
)


def run_pytest(tmp_path: Path, target: str, source: str, report_dir: Path | None) -> tuple[int, str]:
    """Runs pytest on one file as Pants does; returns its exit code and stdout."""
    test_file = tmp_path / "src" / target.split(":")[0]
    test_file.parent.mkdir(parents=True, exist_ok=True)
    test_file.write_text(source)
    args = [sys.executable, "-m", "pytest", "--no-header", "-p", "no:cacheprovider", str(test_file)]
    if report_dir:
        report_dir.mkdir(parents=True, exist_ok=True)
        args.append(f"--junit-xml={report_dir / report_name(target)}")
    result = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path / "src")
    return result.returncode, result.stdout


def pants_log(results: list[tuple[str, int, str]]) -> str:
    """The console log of `pants test` with `[test].output = "all"`, in Pants 2.17's wording."""
    lines = []
    for target, code, stdout in results:
        status = "succeeded." if code == 0 else f"failed (exit code {code})."
        level = "INFO" if code == 0 else "ERROR"
        lines.append(f"09:31:06.20 [{level}] Completed: Run Pytest - {target} - {status}")
        lines.append(stdout)
    lines.append("")
    for target, code, _ in results:
        lines.append(
            f"{'✓' if code == 0 else '✕'} {target} {'succeeded' if code == 0 else 'failed'} in 1.00s."
        )
    return "\n".join(lines) + "\n"


def summarize(
    tmp_path: Path, log: str, reports: Path, pants_exit_code: int, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    log_file = tmp_path / "test.log"
    log_file.write_text(log)
    code = main(["--log", str(log_file), "--pants-exit-code", str(pants_exit_code), str(reports)])
    return code, capsys.readouterr().out


def test_counts_from_reports_when_a_test_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports"
    results = [
        (target, *run_pytest(tmp_path, target, source, reports))
        for target, source in (("pkg/a_test.py:tests", PASSING), ("pkg/b_test.py:tests", MIXED))
    ]
    code, out = summarize(tmp_path, pants_log(results), reports, 1, capsys)
    assert code == 1
    assert out.splitlines()[-1] == "3 passed, 1 failed, 1 skipped"
    assert "failed: pkg.b_test::test_broken" in out


def test_counts_from_the_log_when_pants_wrote_no_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = [
        (target, *run_pytest(tmp_path, target, source, None))
        for target, source in (("pkg/a_test.py:tests", PASSING), ("pkg/b_test.py:tests", MIXED))
    ]
    code, out = summarize(tmp_path, pants_log(results), tmp_path / "absent", 1, capsys)
    assert code == 1
    assert out.splitlines()[-1] == "3 passed, 1 failed, 1 skipped"


def test_a_process_that_ended_without_counts_is_one_named_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    passing = ("pkg/a_test.py:tests", *run_pytest(tmp_path, "pkg/a_test.py:tests", PASSING, reports))
    timed_out = (
        "pkg/slow_test.py:tests",
        -15,
        "Exceeded timeout of 600.0 seconds when executing 'Run Pytest'\n",
    )
    code, out = summarize(tmp_path, pants_log([passing, timed_out]), reports, 1, capsys)
    assert code == 1
    assert out.splitlines()[-1] == "2 passed, 1 failed, 0 skipped"
    assert "failed: pkg/slow_test.py:tests (no per-test result" in out


def test_all_passing_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports"
    results = [("pkg/a_test.py:tests", *run_pytest(tmp_path, "pkg/a_test.py:tests", PASSING, reports))]
    code, out = summarize(tmp_path, pants_log(results), reports, 0, capsys)
    assert (code, out.splitlines()[-1]) == (0, "2 passed, 0 failed, 0 skipped")


def test_no_test_is_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = summarize(tmp_path, "09:00:00.00 [INFO] Starting: nothing\n", tmp_path / "absent", 0, capsys)
    assert code == 1
    assert "No test ran" in out


def test_pants_failing_outside_the_tests_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    results = [("pkg/a_test.py:tests", *run_pytest(tmp_path, "pkg/a_test.py:tests", PASSING, reports))]
    code, out = summarize(tmp_path, pants_log(results), reports, 1, capsys)
    assert code == 1
    assert "exited 1 although no test failed" in out
