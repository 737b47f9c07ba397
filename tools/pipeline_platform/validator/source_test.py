"""The source rule on every pipeline of the repository: each deploys with its source named, and each, with
its prod deployment's source removed, is refused at the line of that deployment."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pipeline_platform.repo import pipeline_dirs
from pipeline_platform.repo_root import find_repo_root
from pipeline_platform.spec import validate_pipeline

REPO = find_repo_root()
PIPELINES = [path.name for path in pipeline_dirs(REPO)]


def copy_pipeline(name: str, target: Path) -> Path:
    shutil.copytree(REPO / "infra" / "work-pools", target / "infra" / "work-pools")
    directory = target / "pipelines" / name
    shutil.copytree(REPO / "pipelines" / name, directory)
    return directory


def test_the_repository_has_pipelines_to_check() -> None:
    assert len(PIPELINES) >= 3, PIPELINES


@pytest.mark.parametrize("name", PIPELINES)
def test_every_deployment_names_its_source_and_loses_it_loudly(name: str, tmp_path: Path) -> None:
    directory = copy_pipeline(name, tmp_path)
    assert validate_pipeline(directory) == []

    spec_file = directory / "prefect.yaml"
    document = yaml.safe_load(spec_file.read_text())
    for deployment in document["deployments"]:
        deployment.pop("parameters", None)
        for schedule in deployment.get("schedules") or []:
            for key in ("api_url", "api_credentials", "database_url", "db_host", "db_credentials"):
                (schedule.get("parameters") or {}).pop(key, None)
    spec_file.write_text(yaml.safe_dump(document, sort_keys=False))

    problems = [problem for problem in validate_pipeline(directory) if "has no source" in problem.reason]
    assert [problem.reason.split(" deployment")[0].rsplit(" ", 1)[-1] for problem in problems] == [
        "prod",
        "staging",
    ], problems
    assert all(problem.path == str(spec_file) and problem.line for problem in problems)
