"""``pipelines_utils.dbt``: the models' repository cloned by the real git from a repository on this machine,
dbt's arguments as the city's library builds them, and a pipeline without dbt failing with what to add."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipelines.common.iplanrio.dbt import dbt_arguments, download_repository, execute_dbt_task, invoke_dbt


def git(repository: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=repository,
        check=True,
        capture_output=True,
    )


def models_repository(tmp_path: Path, *, queries: bool) -> Path:
    repository = tmp_path / "queries-rj-iplanrio"
    project = repository / "queries" if queries else repository
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: teste\nprofile: teste\n")
    (project / "models" / "chamado.sql").write_text("select 1 as id\n")
    git(tmp_path, "init", "-q", "-b", "master", str(repository))
    git(repository, "add", "-A")
    git(repository, "commit", "-q", "-m", "modelos")
    return repository


@pytest.mark.parametrize("queries", [True, False])
def test_the_repository_is_cloned_into_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, queries: bool
) -> None:
    repository = models_repository(tmp_path, queries=queries)
    work = tmp_path / "work"
    (work / "dbt_repository").mkdir(parents=True)
    (work / "dbt_repository" / "stale.txt").write_text("left over by an earlier run")
    monkeypatch.chdir(work)
    project = download_repository(repository.as_uri())
    clone = work / "dbt_repository"
    assert project == (clone / "queries" if queries else clone)
    assert (project / "models" / "chamado.sql").read_text() == "select 1 as id\n"
    assert not (clone / "stale.txt").exists()


def test_a_repository_that_does_not_clone_says_why(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="git clone .*nao-existe failed"):
        download_repository((tmp_path / "nao-existe").as_uri(), into=tmp_path / "clone")
    with pytest.raises(ValueError, match="git_repository_path is required"):
        download_repository("")


def test_arguments_follow_the_citys_library() -> None:
    assert dbt_arguments("run", "prod", "chamado+", "tag:old", "", "--full-refresh") == [
        "run",
        "--target",
        "prod",
        "--select",
        "chamado+",
        "--exclude",
        "tag:old",
        "--full-refresh",
    ]
    assert dbt_arguments("source freshness", "dev", "", "", "state/", "") == [
        "source",
        "freshness",
        "--target",
        "dev",
        "--state",
        "state/",
    ]
    # Commands outside the filtered ones take none of the filters.
    assert dbt_arguments("deps", "prod", "chamado", "", "", "--x") == ["deps"]


def test_without_dbt_in_the_pipeline_the_task_says_what_to_add(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt is a requirement of the pipelines that call this, not of pipelines/common (nor of this test)."""
    repository = models_repository(tmp_path, queries=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match="add dbt-core and its adapter to its requirements"):
        invoke_dbt(["deps"], tmp_path)
    with pytest.raises(RuntimeError, match="dbt is not installed in this pipeline"):
        execute_dbt_task.fn(git_repository_path=repository.as_uri())
    assert (tmp_path / "dbt_repository" / "queries" / "dbt_project.yml").is_file()
