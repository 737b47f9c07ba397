"""The repository on disk: git facts, its pipeline directories and their targets (its root: repo_root.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipelines.common.naming import PIPELINE_DIR_PATTERN, PipelineName

PIPELINES_DIR = "pipelines"
DEPLOYMENTS_FILE = "prefect.yaml"
# `git diff` reports this "revision" for a branch's first push (GitHub's `before` of a new branch).
NULL_SHA = "0" * 40


class GitError(RuntimeError):
    """A git command failed (the message holds git's own error)."""


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed in {repo}: {result.stderr.strip()}")
    return result.stdout


def short_sha(repo: Path) -> str:
    return git(repo, "rev-parse", "--short", "HEAD").strip()


def has_uncommitted_changes(repo: Path) -> bool:
    """Tracked files modified or staged (untracked files do not count)."""
    return bool(git(repo, "status", "--porcelain", "--untracked-files=no").strip())


def resolve_revision(repo: Path, revision: str) -> str:
    return git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").strip()


def default_base_revision(repo: Path, branch: str = "master") -> str:
    """The merge base of HEAD with ``origin/<branch>`` (CI clones) or ``<branch>``."""
    for candidate in (f"origin/{branch}", branch):
        try:
            return git(repo, "merge-base", "HEAD", candidate).strip()
        except GitError:
            continue
    raise GitError(
        f"no '{branch}' or 'origin/{branch}' branch to take the merge base with: pass --changed-since"
    )


def changed_files(repo: Path, since: str) -> list[str]:
    """Files differing between ``since`` and the working tree, untracked ones included (as Pants sees it)."""
    diff = git(repo, "diff", "--name-only", "--no-renames", since, "--")
    untracked = git(repo, "ls-files", "--others", "--exclude-standard")
    return sorted({line for line in (*diff.splitlines(), *untracked.splitlines()) if line})


def pipeline_dirs(repo: Path) -> list[Path]:
    """Every ``pipelines/rj_<sec>__<name>/`` holding a prefect.yaml, sorted by name."""
    root = repo / PIPELINES_DIR
    return sorted(
        path
        for path in root.iterdir()
        if path.is_dir() and PIPELINE_DIR_PATTERN.match(path.name) and (path / DEPLOYMENTS_FILE).is_file()
    )


def pipeline_names(repo: Path) -> list[PipelineName]:
    return [PipelineName.from_dir(path.name) for path in pipeline_dirs(repo)]


def image_address(pipeline: PipelineName) -> str:
    """The pipeline's image target (``:image``, built and deployed)."""
    return f"{PIPELINES_DIR}/{pipeline.dir_name}:image"


def deployments_address(pipeline: PipelineName) -> str:
    """The pipeline's prefect.yaml target (``:deployments``)."""
    return f"{PIPELINES_DIR}/{pipeline.dir_name}:deployments"
