"""The source rule on the two shapes of pipeline: a capture (an API, ``api_url`` or the secret holding it)
and a dump (a database, ``database_url`` or the secret holding it). Each deploys with its source named, and
each, with its sources removed, is refused at the line of every deployment.

The repository's own pipelines are checked by the conventions lint (the same validation), each when it
changes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline_platform.pools import POOLS_DIR
from pipeline_platform.repo_root import find_repo_root
from pipeline_platform.spec import validate_pipeline
from pipelines.common.naming import ENVIRONMENTS, SECRET_NAMES, PipelineName

REPO = find_repo_root()
SOURCE_KEYS = ("api_url", "api_credentials", "database_url", "db_host", "db_credentials")

CAPTURE_FLOW = '''"""A capture: reads an API."""

from prefect import flow


@flow(name="{name}")
def {name}(api_url: str | None = None, api_credentials: str | None = None, attempts: int = 3) -> int:
    return attempts
'''
DUMP_FLOW = '''"""A dump: reads a database."""

from prefect import flow


@flow(name="{name}")
def {name}(
    database_url: str | None = None, table: str = "chamado", db_credentials: str | None = None
) -> str:
    return table
'''


def capture(environment: str) -> dict[str, Any]:
    """Its source in the deployment's parameters: the job secret holding the API's URL."""
    return {"parameters": {"api_credentials": "TESTE_API"}, "schedules": [schedule(environment)]}


def dump(environment: str) -> dict[str, Any]:
    """Its source in every schedule's parameters: the database's URL."""
    database = {"database_url": "postgresql://db.example/teste", "table": "chamado"}
    return {"schedules": [schedule(environment, database), schedule(environment, database)]}


def schedule(environment: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "cron": "0 3 * * *",
        "timezone": "America/Sao_Paulo",
        "active": environment == "prod",
        **({"parameters": parameters} if parameters else {}),
    }


SHAPES: dict[str, tuple[str, str, Callable[[str], dict[str, Any]]]] = {
    "rj_teste__captura": (CAPTURE_FLOW, "default-pool", capture),
    "rj_teste__dump_db": (DUMP_FLOW, "datario-pool", dump),
}


def write_pipeline(repo: Path, name: str) -> Path:
    """The pipeline ``name`` of SHAPES, valid, with the work pool templates beside it."""
    flow, pool, sources = SHAPES[name]
    pipeline = PipelineName.from_dir(name)
    shutil.copytree(REPO / POOLS_DIR, repo / POOLS_DIR, dirs_exist_ok=True)
    directory = repo / "pipelines" / name
    directory.mkdir(parents=True)
    (directory / "flow.py").write_text(flow.format(name=name))
    deployments = [
        {
            "name": f"{pipeline.image_name}--{environment}",
            "entrypoint": f"pipelines/{name}/flow.py:{name}",
            **sources(environment),
            "work_pool": {
                "name": pool,
                "job_variables": {
                    "image": f"{pipeline.image_name}:{{{{ $IMAGE_TAG }}}}",
                    "secretName": SECRET_NAMES[environment],
                },
            },
        }
        for environment in ENVIRONMENTS
    ]
    document = {
        "name": name,
        "prefect-version": "3.9.1",
        "build": None,
        "push": None,
        "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": "/opt/prefect"}}],
        "deployments": deployments,
    }
    (directory / "prefect.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return directory


def remove_sources(spec_file: Path) -> None:
    document = yaml.safe_load(spec_file.read_text())
    for deployment in document["deployments"]:
        deployment.pop("parameters", None)
        for item in deployment.get("schedules") or []:
            for key in SOURCE_KEYS:
                (item.get("parameters") or {}).pop(key, None)
    spec_file.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.mark.parametrize("name", SHAPES)
def test_a_deployment_names_its_source_and_loses_it_loudly(name: str, tmp_path: Path) -> None:
    directory = write_pipeline(tmp_path, name)
    assert validate_pipeline(directory) == []

    spec_file = directory / "prefect.yaml"
    remove_sources(spec_file)

    problems = [problem for problem in validate_pipeline(directory) if "has no source" in problem.reason]
    assert [problem.reason.split(" deployment")[0].rsplit(" ", 1)[-1] for problem in problems] == [
        "prod",
        "staging",
    ], problems
    rows = spec_file.read_text().splitlines()
    lines = [number for number, row in enumerate(rows, 1) if row.startswith("- name: ")]
    assert [(problem.path, problem.line) for problem in problems] == [
        (str(spec_file), line) for line in lines
    ]
