"""The deploy tool's nested Pants runs share one private daemon that dies with the block that started it; the
launcher (run_tool.sh) runs a whole deploy on one daemon of its own, or on its caller's (a CI job's), which it
leaves running."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from pipeline_platform.pants import DAEMON_DIR_ENV, private_daemon, run_pants, stop_daemons
from repo_testing.workspace import copy_repo

# `list`/`peek` need no lockfile; skipping its derivation keeps the test to Pants's own start-up.
NO_LOCKFILE = {"PANTS_LAUNCHER_SKIP_LOCKFILE": "1"}


def daemon_pids(repo: Path) -> dict[Path, int]:
    return {
        pid_file: int(pid_file.read_text().strip())
        for pid_file in (repo / ".pids").glob("nested-*/*/pantsd/pid")
    }


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("repo"))


def test_runs_in_the_block_share_one_daemon_that_stops_with_it(repo: Path) -> None:
    with private_daemon(repo):
        listed = run_pants(repo, "list", "pipelines/common:", env=NO_LOCKFILE)
        first = daemon_pids(repo)
        peeked = run_pants(repo, "peek", "pipelines/common/naming.py", env=NO_LOCKFILE)
        second = daemon_pids(repo)

    assert "pipelines/common:common" in listed.split()
    assert '"address": "pipelines/common/naming.py"' in peeked
    assert len(first) == 1, f"expected one private daemon, found {first}"
    assert second == first, "the second run started another daemon instead of reusing the first"
    (pid,) = first.values()
    assert not alive(pid), f"pantsd {pid} outlived the block"
    assert not list((repo / ".pids").glob("nested-*")), "the private daemon's directory was left behind"


def test_a_launchers_daemon_serves_runs_in_and_outside_the_block_and_outlives_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = repo / ".pids" / "deploy-test"
    monkeypatch.setenv(DAEMON_DIR_ENV, str(directory))
    try:
        run_pants(repo, "list", "pipelines/common:", env=NO_LOCKFILE)  # a dry run's plan: outside the block
        first = sorted(directory.glob("*/pantsd/pid"))
        pids = [int(pid_file.read_text().strip()) for pid_file in first]
        with private_daemon(repo):
            run_pants(repo, "peek", "pipelines/common/naming.py", env=NO_LOCKFILE)
            second = sorted(directory.glob("*/pantsd/pid"))
            assert not list((repo / ".pids").glob("nested-*")), "the block started a daemon of its own"
        still_running = [pid for pid in pids if alive(pid)]
    finally:
        monkeypatch.delenv(DAEMON_DIR_ENV)
        stop_daemons(directory)  # its owner's part, here the test's

    assert len(first) == 1, f"expected the run to start the daemon in {directory}, found {first}"
    assert second == first, "the run in the block did not reuse the launcher's daemon"
    assert still_running == pids, f"the block stopped the daemon it did not start ({pids})"


def test_runs_outside_the_block_start_no_daemon(repo: Path) -> None:
    listed = run_pants(repo, "list", "pipelines/common:", env=NO_LOCKFILE)

    assert "pipelines/common:common" in listed.split()
    assert not daemon_pids(repo)
    assert not list((repo / ".pids").glob("*/pantsd/pid")), "a one-off run left a daemon behind"


def test_the_launcher_runs_a_deploy_on_one_daemon_and_leaves_none(repo: Path) -> None:
    # A change in the working tree, so that the plan asks Pants (`peek --changed-since`) through the daemon.
    tasks = repo / "pipelines" / "rj_smtr__gps_brt" / "tasks.py"
    original = tasks.read_text()
    tasks.write_text(original + "\n# changed by nested_pants_daemon_test\n")
    # The launcher's own settings only: no pex variables of this test's runner, no deploy flags from outside.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PEX", "PIPELINES_DEPLOY_")) and key not in {"PYTHONPATH", DAEMON_DIR_ENV}
    }
    seen: dict[Path, int] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            for pid_file in (repo / ".pids").glob("**/pantsd/pid"):
                text = pid_file.read_text().strip() if pid_file.is_file() else ""
                if text.isdigit():
                    seen[pid_file] = int(text)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = subprocess.run(
            [
                str(repo / "tools/deploy_prefect_flows.sh"),
                *("--environment", "staging", "--changed-since", "HEAD", "--dry-run"),
            ],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=500,
        )
    finally:
        done.set()
        watcher.join()
        tasks.write_text(original)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Plan: 1 pipeline(s), changes since HEAD" in result.stdout, output[-4000:]
    assert "rj_smtr__gps_brt" in result.stdout
    pids = set(seen.values())
    assert len(pids) == 1, f"expected exactly one pantsd for the deploy, saw {seen}"
    (pid_file,) = seen
    assert pid_file.parent.parent.parent.name.startswith(
        "deploy_prefect_flows-"
    ), f"{pid_file}: not the launcher's"
    (pid,) = pids
    assert not alive(pid), f"pantsd {pid} outlived the deploy"
    assert not list((repo / ".pids").glob("**/pantsd/pid")), "a daemon's directory was left behind"


def test_the_launcher_runs_a_tool_on_its_callers_daemon_and_leaves_it_running(repo: Path) -> None:
    """A CI job's steps share one daemon (Pants's default subprocess dir): the graph step runs on it."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PEX", "PIPELINES_DEPLOY_")) and key not in {"PYTHONPATH", DAEMON_DIR_ENV}
    }
    try:
        # An earlier step of the job: `./pants` with the daemon on, in its default directory.
        subprocess.run(
            ["./pants", "--pantsd", "list", "pipelines/common:"],
            cwd=repo,
            env={**env, **NO_LOCKFILE},
            capture_output=True,
            check=True,
            timeout=300,
        )
        job_daemons = [int(pid.read_text().strip()) for pid in (repo / ".pids").glob("*/pantsd/pid")]
        assert len(job_daemons) == 1, f"expected the job's one daemon, found {job_daemons}"
        job_daemon = job_daemons[0]
        result = subprocess.run(
            [str(repo / "tools/run_tool.sh"), "affected_pipelines", "--files", "pipelines/common/lake.py"],
            cwd=repo,
            env={**env, DAEMON_DIR_ENV: ".pids"},
            capture_output=True,
            text=True,
            check=False,
            timeout=500,
        )
        daemons = [int(pid.read_text().strip()) for pid in (repo / ".pids").glob("**/pantsd/pid")]
        running = alive(job_daemon)
    finally:
        stop_daemons(repo / ".pids")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "rj_smtr__gps_brt" in output, output[-4000:]
    assert daemons == [
        job_daemon
    ], f"the tool started another daemon besides the job's {job_daemon}: {daemons}"
    assert running, "the launcher stopped its caller's daemon"
