"""``pipelines_utils.dbt``: a dbt command over a git repository of dbt models, through dbt's Python API.

dbt itself (``dbt-core`` and the adapter the project's profile names, e.g. ``dbt-bigquery``) is a requirement
of the pipeline that calls this, not of pipelines/common: the importer adds it.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
from pathlib import Path
from typing import Any, Final

from prefect import task

from pipelines.common.iplanrio.logging import log

DEFAULT_REPOSITORY: Final = "https://github.com/prefeitura-rio/queries-rj-iplanrio"
FILTERED_COMMANDS: Final = ("build", "run", "test", "source freshness", "seed", "snapshot")


def download_repository(git_repository_path: str, into: Path | None = None) -> Path:
    """Clones the repository into ``./dbt_repository``; its ``queries`` folder when it has one."""
    if not git_repository_path:
        raise ValueError("git_repository_path is required")
    repository = (into or Path.cwd() / "dbt_repository").resolve()
    if repository.exists():
        shutil.rmtree(repository)
    result = subprocess.run(
        ["git", "clone", "--depth", "1", git_repository_path, str(repository)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"git clone {git_repository_path} failed: {result.stderr.strip()}")
    log(f"Repository downloaded: {git_repository_path}")
    queries = repository / "queries"
    return queries if queries.is_dir() else repository


def dbt_arguments(command: str, target: str, select: str, exclude: str, state: str, flag: str) -> list[str]:
    arguments = command.split() if command == "source freshness" else [command]
    if command in FILTERED_COMMANDS:
        arguments += ["--target", target]
        for option, value in (("--select", select), ("--exclude", exclude), ("--state", state)):
            if value:
                arguments += [option, value]
        if flag:
            arguments.append(flag)
    return arguments


def invoke_dbt(arguments: list[str], project_dir: Path) -> Any:
    """``dbtRunner().invoke`` in the project (its ``profiles.yml`` there, as the city's repository has)."""
    try:
        runner_module = importlib.import_module("dbt.cli.main")
    except ImportError:
        raise RuntimeError(
            "dbt is not installed in this pipeline: add dbt-core and its adapter to its requirements"
        ) from None
    directories = ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    return runner_module.dbtRunner().invoke([*arguments, *directories])


@task
def execute_dbt_task(
    command: str = "run",
    target: str = "dev",
    select: str = "",
    exclude: str = "",
    state: str = "",
    flag: str = "",
    git_repository_path: str = DEFAULT_REPOSITORY,
) -> Any:
    """``dbt deps`` then the command; a failed command fails the task (the result is returned otherwise)."""
    project = download_repository(git_repository_path)
    deps = invoke_dbt(["deps"], project)
    if not deps.success:
        raise RuntimeError(f"dbt deps failed: {deps.exception}")
    arguments = dbt_arguments(command, target, select, exclude, state, flag)
    log(f"Executing dbt command: {' '.join(arguments)}")
    result = invoke_dbt(arguments, project)
    log(f"DBT command completed with success: {result.success}")
    if result.exception is not None:
        raise RuntimeError(f"dbt {' '.join(arguments)} failed: {result.exception}")
    return result
