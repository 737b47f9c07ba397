"""The deploy tool's nested Pants runs share one private daemon that dies with the block that started it; the
launcher (deploy_prefect_flows.sh) runs a whole deploy on one daemon of its own."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from pipeline_platform.pants import DAEMON_DIR_ENV, private_daemon, run_pants
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


def test_a_launchers_daemon_serves_runs_outside_the_block_and_the_block_stops_it(
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
    finally:
        if directory.exists():  # the test failed before the block ended: stop the daemon anyway
            with private_daemon(repo):
                pass
        monkeypatch.delenv(DAEMON_DIR_ENV)

    assert len(first) == 1, f"expected the run to start the daemon in {directory}, found {first}"
    assert second == first, "the run in the block did not reuse the launcher's daemon"
    assert not directory.exists(), "the block left the launcher's daemon directory behind"
    assert not any(alive(pid) for pid in pids), f"pantsd {pids} outlived the block"


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
    assert pid_file.parent.parent.parent.name.startswith("deploy-"), f"{pid_file}: not the launcher's daemon"
    (pid,) = pids
    assert not alive(pid), f"pantsd {pid} outlived the deploy"
    assert not list((repo / ".pids").glob("**/pantsd/pid")), "a daemon's directory was left behind"
