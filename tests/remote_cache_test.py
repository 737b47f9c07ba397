"""Pants's remote cache (REAPI) as the workflows switch it on, against BuildGrid on 127.0.0.1: a fresh runner
builds master (main-checks' pants-setup step: read and write), then another fresh runner checks a pull request
(pr-checks' step: read only) and gets the test result and the pex builds from the server; a server that is
down costs a warning, never a failure.

Each runner is a fresh copy of the repository with its own HOME and cache root (Pants's local store and named
caches): nothing is shared but the server. Both sit at the same path, as GitHub's runners do, since a test's
environment (the repository root, HOME, the cache root) is part of its cache key. The Pants bootstrap (the
launcher's venv and pex tool, a cache of its own in the workflows) is this machine's.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from repo_testing.ci import skip_or_fail
from repo_testing.deploy_support import free_port
from repo_testing.workflow_runner import JobResult, JobRunner
from repo_testing.workspace import REPO_ROOT, commit_all, copy_repo, git

# A small real test: its requirements pex (pytest, Prefect, SQLAlchemy through conftest.py) is the costly one.
TARGET = "pipelines/common/naming_test.py"
INSTANCE = "pipelines"
BUILDGRID_ENV = "PIPELINES_TEST_BUILDGRID"
# The pex builds of one test run; each is a process Pants looks up in the cache.
PEXES = ("pytest.pex", "requirements.pex", "pytest_runner.pex")
# Set by the outer run, or by a CI job whose cache is on; a fresh runner has none of it.
_NOT_ON_A_FRESH_RUNNER = (
    "PANTS_CONFIG_FILES",
    "PIPELINES_REPO_ROOT",
    "PIPELINES_TEMPLATES_DIGEST",
    "OS_IMAGE",
    "IMAGE_TAG",
    "GITHUB_ENV",
    "GITHUB_STEP_SUMMARY",
)


@dataclass
class Run:
    result: JobResult

    @property
    def output(self) -> str:
        return "\n".join(step.output for step in self.result.steps)

    def counters(self) -> dict[str, int]:
        """Pants's `--stats-log` counters of the test step."""
        test_step = self.result.steps[-1].output
        assert "Counters:" in test_step, self.result.log()
        block = test_step.split("Counters:", 1)[1]
        return {name: int(value) for name, value in re.findall(r"^\s+(\w+): (\d+)$", block, re.M)}


def setup_step(workflow: str) -> dict[str, Any]:
    """The workflow's pants-setup step, as committed."""
    document = yaml.safe_load((REPO_ROOT / ".github/workflows" / workflow).read_text())
    steps = [step for job in document["jobs"].values() for step in job["steps"]]
    step = next(step for step in steps if step.get("uses") == "./.github/actions/pants-setup")
    assert isinstance(step, dict)
    return step


def launcher_cache() -> str:
    cache_root = os.environ.get("XDG_CACHE_HOME") or str(Path(os.environ["HOME"]) / ".cache")
    return os.environ.get("PANTS_LAUNCHER_CACHE") or f"{cache_root}/rio-pipelines-pants"


def run_job(repo: Path, workflow: str, address: str, secrets: dict[str, str] | None = None) -> Run:
    """One job on the runner of `repo`: checkout, the workflow's pants-setup step with the cache's variables
    and `secrets`, then the test with Pants's counters."""
    runner_dir = repo.parent
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _NOT_ON_A_FRESH_RUNNER and not key.startswith("PANTS_REMOTE_")
    }
    env.update(
        HOME=str(runner_dir / "home"),
        XDG_CACHE_HOME=str(runner_dir / "cache"),
        PANTS_LAUNCHER_CACHE=launcher_cache(),
    )
    (runner_dir / "home").mkdir(exist_ok=True)
    job = {
        "env": {"PANTS_CONFIG_FILES": "pants.ci.toml"},
        "jobs": {
            "checks": {
                "steps": [
                    {"uses": "actions/checkout@v4"},
                    setup_step(workflow),
                    {"name": "Test", "run": f"./pants --stats-log test {TARGET}"},
                ]
            }
        },
    }
    definition = runner_dir / "job.yaml"
    definition.write_text(yaml.safe_dump(job))
    contexts = {
        "github": {"sha": git(repo, "rev-parse", "HEAD").strip(), "event": {}},
        "vars": {"PANTS_REMOTE_CACHE_ADDRESS": address, "PANTS_REMOTE_CACHE_INSTANCE": INSTANCE},
        "secrets": {"PANTS_REMOTE_CACHE_TOKEN": "", "PANTS_REMOTE_CACHE_BASIC_AUTH": "", **(secrets or {})},
    }
    result = JobRunner(repo, contexts, env=env).run_job(definition, "checks")
    print(result.timings())
    return Run(result)


def fresh_runner(runner_dir: Path) -> Path:
    """A fresh runner at `runner_dir`: whatever a previous one left there is gone."""
    shutil.rmtree(runner_dir, ignore_errors=True)
    runner_dir.mkdir(parents=True)
    return copy_repo(runner_dir / "repo")


def stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def buildgrid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """BuildGrid on a free port of 127.0.0.1, started by build-support/ci/start-buildgrid.sh; its address."""
    bgd = os.environ.get(BUILDGRID_ENV, "")
    if not Path(bgd).is_file():
        skip_or_fail(
            f"no BuildGrid for this test: {BUILDGRID_ENV} is not set or names no file (run "
            "`bash build-support/ci/start-buildgrid.sh --install-only` and export the variable it prints)"
        )
    run_dir = tmp_path_factory.mktemp("buildgrid")
    port = free_port()
    env = {
        **os.environ,
        "BUILDGRID_VENV": str(Path(bgd).parent.parent),
        "BUILDGRID_RUN_DIR": str(run_dir),
        "BUILDGRID_PORT": str(port),
        "BUILDGRID_INSTANCE": INSTANCE,
    }
    script = REPO_ROOT / "build-support/ci/start-buildgrid.sh"
    try:
        started = subprocess.run(
            ["bash", str(script)], env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert started.returncode == 0, started.stderr
        assert f"export PANTS_REMOTE_STORE_ADDRESS=grpc://127.0.0.1:{port}" in started.stdout
        yield f"grpc://127.0.0.1:{port}"
    finally:
        pid_file = run_dir / "server.pid"
        if pid_file.exists():
            stop(int(pid_file.read_text()))


@dataclass
class Runs:
    master: Run
    pull_request: Run
    repo: Path


@pytest.fixture(scope="module")
def runs(buildgrid: str, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    runner_dir = tmp_path_factory.mktemp("runners") / "runner"
    # This server checks no credentials: they only show that Pants takes them as the action passes them.
    token = {"PANTS_REMOTE_CACHE_TOKEN": "a-token"}
    master = run_job(fresh_runner(runner_dir), "main-checks.yaml", buildgrid, token)
    assert master.result.ok, master.result.log()
    repo = fresh_runner(runner_dir)
    basic_auth = {"PANTS_REMOTE_CACHE_BASIC_AUTH": "ci:a-password"}
    pull_request = run_job(repo, "pr-checks.yaml", buildgrid, basic_auth)
    assert pull_request.result.ok, pull_request.result.log()
    return Runs(master, pull_request, repo)


def test_master_fills_the_cache_before_its_run_ends(runs: Runs) -> None:
    counters = runs.master.counters()

    assert "Remote cache on: grpc://127.0.0.1:" in runs.master.output, runs.master.result.log()
    assert counters["remote_cache_write_attempts"] >= len(PEXES) + 1, counters
    # Every upload finished before Pants exited (session-end tasks, pants.ci.toml).
    assert counters["remote_cache_write_successes"] == counters["remote_cache_write_attempts"], counters
    assert counters["remote_cache_write_errors"] == 0, counters


def test_a_fresh_runner_gets_the_test_result_and_the_pex_builds_from_the_cache(runs: Runs) -> None:
    counters = runs.pull_request.counters()
    output = runs.pull_request.output

    assert re.search(rf"^✓ {re.escape(TARGET)}:tests succeeded .*\(cached remotely\)", output, re.M), output
    assert counters["remote_cache_requests"] >= len(PEXES) + 1, counters
    assert counters["remote_cache_requests_cached"] == counters["remote_cache_requests"], counters
    assert counters["remote_cache_requests_uncached"] == 0, counters
    # Pull requests only read the cache.
    assert counters["remote_cache_write_attempts"] == 0, counters
    for pex in PEXES:
        assert re.search(rf"Starting: Building .*{re.escape(pex)}", output), f"{pex} was never needed"
        assert not re.search(rf"Completed: Building .*{re.escape(pex)}", output), f"{pex} was built here"


def test_a_cache_server_that_is_down_fails_nothing(runs: Runs) -> None:
    test_file = runs.repo / TARGET
    test_file.write_text(
        test_file.read_text()
        + "\n\ndef test_added_by_a_pull_request() -> None:\n"
        + '    assert PipelineName.from_dir("rj_a__b").dir_name == "rj_a__b"\n'
    )
    commit_all(runs.repo, "a pull request")
    closed = f"grpc://127.0.0.1:{free_port()}"

    run = run_job(runs.repo, "main-checks.yaml", closed)
    counters = run.counters()

    assert run.result.ok, run.result.log()
    assert re.search(rf"^✓ {re.escape(TARGET)}:tests succeeded in [0-9.]+s\.$", run.output, re.M), run.output
    assert "[WARN] Failed to read from remote cache" in run.output
    assert counters["remote_cache_read_errors"] >= 1, counters
    assert counters["remote_cache_requests_cached"] == 0, counters
