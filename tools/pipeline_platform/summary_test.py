"""Reports go to the terminal and, in a workflow, to the job summary file."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from pipeline_platform.summary import Report, show


def test_reports_are_printed_and_appended_to_the_github_job_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("before\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    console = Console(record=True, width=120)
    report = Report(
        "Deploy to staging",
        ("Pipeline", "Result"),
        [("rj_a__um", "ok"), ("rj_b|x", "FAILED\nretry")],
        ["2 pipelines"],
    )

    show(console, report, Report("Plan", ("Pipeline",), [], empty="nothing to deploy"))

    printed = console.export_text()
    assert "Deploy to staging" in printed and "rj_a__um" in printed and "nothing to deploy" in printed
    assert summary.read_text() == (
        "before\n"
        "### Deploy to staging\n\n"
        "| Pipeline | Result |\n|---|---|\n| rj_a__um | ok |\n"
        "| rj_b\\|x | FAILED<br>retry |\n\n- 2 pipelines\n\n"
        "### Plan\n\n_nothing to deploy_\n\n"
    )
