"""The workflow runner on small workflows: GitHub's files, expressions, conditions, composite actions, and
the refusals (an unknown marketplace action, a context not given, a failing step stops the job)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from repo_testing.workflow_runner import JobRunner, WorkflowError

WORKFLOW = """
name: t
on: push
env:
  GREETING: hello ${{ vars.WHO }}
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: first
        run: |
          echo "answer=42" >>"$GITHUB_OUTPUT"
          echo "FROM_ENV=set by a step" >>"$GITHUB_ENV"
          echo "# summary" >>"$GITHUB_STEP_SUMMARY"
      - name: skipped
        if: ${{ vars.WHO == 'nobody' }}
        run: exit 1
      - uses: ./.github/actions/echo
        with:
          what: ${{ steps.first.outputs.answer }}
      - run: echo "$GREETING / $FROM_ENV / $(sudo printenv FROM_ENV || echo reset by sudo)" >out.txt
"""
ACTION = """
name: echo
description: d
inputs:
  what:
    description: d
  other:
    description: d
    default: fallback
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "${{ inputs.what }} ${{ inputs.other }}" >action.txt
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".github/actions/echo").mkdir(parents=True)
    (repo / ".github/actions/echo/action.yaml").write_text(ACTION)
    (repo / "w.yaml").write_text(WORKFLOW)
    return repo


def test_a_job_runs_with_githubs_files_expressions_and_composite_actions(repo: Path) -> None:
    result = JobRunner(repo, {"vars": {"WHO": "rio"}}).run_job(repo / "w.yaml", "j")

    assert result.ok, result.log()
    assert result.outputs == {"first": {"answer": "42"}}
    assert result.summary == "# summary\n"
    assert (repo / "action.txt").read_text() == "42 fallback\n"
    assert (repo / "out.txt").read_text() == "hello rio / set by a step / reset by sudo\n"
    assert "skipped" not in {step.name for step in result.steps}


def test_a_failing_step_stops_the_job(repo: Path) -> None:
    (repo / "w.yaml").write_text(WORKFLOW.replace('echo "answer=42"', "false; echo"))
    result = JobRunner(repo, {"vars": {"WHO": "rio"}}).run_job(repo / "w.yaml", "j")
    assert not result.ok
    assert result.steps[-1].name == "step 1" and result.steps[-1].returncode == 1


def test_a_daemon_a_step_started_does_not_outlive_the_job(repo: Path) -> None:
    (repo / "daemon.yaml").write_text("""
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - id: daemon
        run: |
          mkdir -p .pids/abc/pantsd
          setsid sleep 300 >/dev/null 2>&1 &
          echo $! >.pids/abc/pantsd/pid
          echo "pid=$!" >>"$GITHUB_OUTPUT"
""")
    result = JobRunner(repo, {}).run_job(repo / "daemon.yaml", "j")

    assert result.ok, result.log()
    pid = int(result.outputs["daemon"]["pid"])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_context_not_given_or_an_unknown_action_is_refused(repo: Path) -> None:
    with pytest.raises(WorkflowError, match="vars.WHO"):
        JobRunner(repo, {}).run_job(repo / "w.yaml", "j")
    (repo / "w.yaml").write_text(WORKFLOW.replace("actions/checkout@v4", "docker/login-action@v3"))
    with pytest.raises(WorkflowError, match="no stand-in for the marketplace action docker/login-action@v3"):
        JobRunner(repo, {"vars": {"WHO": "rio"}}).run_job(repo / "w.yaml", "j")


SETUP_PYTHON = """
name: t
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: |
            3.9
            3.13
      - run: |
          python3.9 -c 'import sys; print(sys.version_info[:2])' >versions.txt
          python3.13 -c 'import sys; print(sys.version_info[:2])' >>versions.txt
"""


def test_setup_python_puts_the_machines_interpreters_of_the_versions_asked_on_the_path(repo: Path) -> None:
    (repo / "w.yaml").write_text(SETUP_PYTHON)
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(repo)}  # as a job's: no pyenv on the PATH

    result = JobRunner(repo, {}, env=environment).run_job(repo / "w.yaml", "j")

    assert result.ok, result.log()
    assert (repo / "versions.txt").read_text() == "(3, 9)\n(3, 13)\n"
    (repo / "w.yaml").write_text(SETUP_PYTHON.replace("3.13", "2.6"))
    with pytest.raises(WorkflowError, match="CPython 2.6 is not installed on this machine"):
        JobRunner(repo, {}, env=environment).run_job(repo / "w.yaml", "j")
