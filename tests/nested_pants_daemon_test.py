"""The deploy tool's nested Pants runs share one private daemon that dies with the block that started it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline_platform.pants import private_daemon, run_pants
from tests.workspace import copy_repo

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


def test_runs_outside_the_block_start_no_daemon(repo: Path) -> None:
    listed = run_pants(repo, "list", "pipelines/common:", env=NO_LOCKFILE)

    assert "pipelines/common:common" in listed.split()
    assert not daemon_pids(repo)
    assert not list((repo / ".pids").glob("*/pantsd/pid")), "a one-off run left a daemon behind"
