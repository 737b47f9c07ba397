"""A throwaway git copy of this repository's working tree, and Pants runs inside it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from pipeline_platform.pants import stop_daemons
from pipeline_platform.repo_root import find_repo_root

REPO_ROOT = find_repo_root(Path(__file__))
# Derived at run time and expensive to derive again: reused by the copy when its pins are the same.
_DERIVED_FILES = ("3rdparty/python/default.lock", "3rdparty/python/default.lock.inputs")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@localhost", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def copy_repo(dest: Path) -> Path:
    """Copies tracked and untracked-but-not-ignored files (what a commit would hold) into a new git repo."""
    files = git(REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for relative in filter(None, (*files, *_DERIVED_FILES)):
        source = REPO_ROOT / relative
        if source.is_file():
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / relative)
    git(dest, "init", "-q", "-b", "master")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "base")
    return dest


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def pants(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs ./pants in `repo` without a daemon (a daemon would outlive the test)."""
    return subprocess.run(
        ["./pants", "--no-pantsd", "--no-dynamic-ui", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=900,
    )


def stop_pantsd(repo: Path) -> None:
    """Stops every pantsd started in ``repo`` (any subprocess dir under ``.pids``), waiting for each."""
    stop_daemons(repo / ".pids")
