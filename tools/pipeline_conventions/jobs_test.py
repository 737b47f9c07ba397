"""The Kubernetes Job of each deployment, rendered offline by the conventions check: broken examples from the
job variables and from a changed work pool template, each reported at its line, none crashing the check."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline_conventions.check import check_pipelines
from pipeline_platform import testing
from pipeline_platform.pools import POOLS_DIR
from pipelines.common.naming import ENVIRONMENTS, WORK_POOLS, PipelineName

VERSIONS = "Kubernetes 1.28, 1.29, 1.30, 1.31"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with the committed work pool templates and no pipeline yet; the working directory."""
    shutil.copytree(POOLS_DIR, tmp_path / POOLS_DIR)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_pipeline(
    repo: Path, name: str = testing.PIPELINE, pool: str = "default-pool", **job_variables: Any
) -> Path:
    """The platform's fixture pipeline as ``name`` on ``pool``, ``job_variables`` in both deployments."""
    image = PipelineName.from_dir(name).image_name
    deployments = []
    for environment in ENVIRONMENTS:
        work_pool = testing.deployment(environment)["work_pool"]
        work_pool = {"name": pool, "job_variables": {**work_pool["job_variables"], **job_variables}}
        deployments.append(testing.deployment(environment, work_pool=work_pool))
    text = yaml.safe_dump(testing.prefect_yaml(deployments=deployments), sort_keys=False)
    directory = repo / "pipelines" / name
    directory.mkdir(parents=True)
    for file in ("BUILD", "Dockerfile", "__init__.py"):
        (directory / file).write_text("")
    (directory / "flow.py").write_text(testing.FLOW_SOURCE.replace(testing.PIPELINE, name))
    (directory / "prefect.yaml").write_text(
        text.replace(testing.PIPELINE, name).replace(testing.IMAGE, image)
    )
    return directory


def change_template(repo: Path, pool: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = repo / POOLS_DIR / f"{pool}.json"
    template = json.loads(path.read_text())
    change(template)
    path.write_text(json.dumps(template))


def container(template: dict[str, Any]) -> dict[str, Any]:
    manifest = template["job_configuration"]["job_manifest"]
    result: dict[str, Any] = manifest["spec"]["template"]["spec"]["containers"][0]
    return result


def problems(*names: str) -> list[str]:
    return [str(problem) for problem in check_pipelines([Path("pipelines") / name for name in names])]


def line_of(directory: Path, text: str) -> list[int]:
    rows = (directory / "prefect.yaml").read_text().splitlines()
    return [number for number, row in enumerate(rows, 1) if text in row]


def deployment_lines(directory: Path) -> list[int]:
    return line_of(directory, "- name: ")


@pytest.mark.parametrize("pool", WORK_POOLS)
def test_a_valid_pipeline_passes(repo: Path, pool: str) -> None:
    write_pipeline(repo, pool=pool)
    assert problems(testing.PIPELINE) == []


@pytest.mark.parametrize("pool", WORK_POOLS)
def test_a_null_job_variable_that_makes_an_invalid_job_is_reported_at_its_line(repo: Path, pool: str) -> None:
    # The pools' schema accepts null for a resource; the Job would carry `memory: null`.
    directory = write_pipeline(repo, pool=pool, memory_limit=None)

    found = problems(testing.PIPELINE)

    assert [problem.split(": ")[0] for problem in found] == [
        f"pipelines/{testing.PIPELINE}/prefect.yaml:{line}" for line in line_of(directory, "memory_limit:")
    ]
    assert all(
        f"job variable 'memory_limit' makes the Kubernetes Job invalid for {VERSIONS} "
        "(spec.template.spec.containers.0.resources.limits.memory: " in problem
        and "a null job variable reaches the Job as null: set a valid value, or leave it out" in problem
        for problem in found
    ), found


def test_a_render_that_raises_is_reported_not_a_crash_and_other_pipelines_are_still_checked(
    repo: Path,
) -> None:
    unsplittable = write_pipeline(repo, "rj_teste__comando", command="python -c 'unclosed")
    invalid = write_pipeline(repo, "rj_teste__memoria", memory_request=None)
    write_pipeline(repo, "rj_teste__valida")

    found = problems("rj_teste__comando", "rj_teste__memoria", "rj_teste__valida")

    commands = [
        f"pipelines/rj_teste__comando/prefect.yaml:{line}" for line in line_of(unsplittable, "command:")
    ]
    memory = [
        f"pipelines/rj_teste__memoria/prefect.yaml:{line}" for line in line_of(invalid, "memory_request:")
    ]
    assert [problem.split(": ")[0] for problem in found] == commands + memory, found
    assert all(
        "job variable 'command': the worker cannot build the Kubernetes Job (ValueError: No closing "
        "quotation): set a valid value, or leave it out" in problem
        for problem in found[:2]
    ), found
    assert all("job variable 'memory_request' makes the Kubernetes Job invalid" in p for p in found[2:])


def test_a_template_default_that_makes_an_invalid_job_names_the_template(repo: Path) -> None:
    def deadline_as_text(template: dict[str, Any]) -> None:
        template["variables"]["properties"]["deadline"] = {"type": "string", "default": "1h"}
        template["job_configuration"]["job_manifest"]["spec"]["activeDeadlineSeconds"] = "{{ deadline }}"

    change_template(repo, "default-pool", deadline_as_text)
    directory = write_pipeline(repo)

    found = problems(testing.PIPELINE)

    assert [problem.split(": ")[0] for problem in found] == [
        f"pipelines/{testing.PIPELINE}/prefect.yaml:{line}" for line in deployment_lines(directory)
    ]
    assert all(
        "the default of 'deadline' in infra/work-pools/default-pool.json makes the Kubernetes Job invalid "
        f"for {VERSIONS} (spec.activeDeadlineSeconds: '1h' is not of type 'integer', 'null')" in problem
        for problem in found
    ), found


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda template: container(template)["envFrom"].append({"secretRef": {"name": "shared"}}),
            "reads its environment from the secrets ['prefect-jobs-secrets",
        ),
        (
            lambda template: container(template).update(image="prefecthq/prefect:3-latest"),
            "runs the image 'prefecthq/prefect:3-latest', not the pipeline's 'rj-teste--exemplo:0a1b2c3'",
        ),
        (
            lambda template: container(template).update(workingDir="{{ prefect.variables.workdir }}"),
            "the worker cannot build the Kubernetes Job (OfflineClientError: rendered with no Prefect server",
        ),
        (
            lambda template: container(template)["securityContext"].update(runAsNonroot=True),
            "infra/work-pools/default-pool.json makes the Kubernetes Job invalid",
        ),
    ],
    ids=["another-secret", "fixed-image", "prefect-variable", "typo-in-the-template"],
)
def test_a_template_change_that_breaks_every_deployment_is_reported_at_each(
    repo: Path, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    change_template(repo, "default-pool", change)
    directory = write_pipeline(repo)

    found = problems(testing.PIPELINE)

    assert [problem.split(": ")[0] for problem in found] == [
        f"pipelines/{testing.PIPELINE}/prefect.yaml:{line}" for line in deployment_lines(directory)
    ], found
    assert all(expected in problem for problem in found), found


def test_a_prefect_yaml_with_problems_is_not_rendered(repo: Path) -> None:
    directory = write_pipeline(repo, memory_limit=None)
    path = directory / "prefect.yaml"
    path.write_text(path.read_text().replace("secretName: prefect-jobs-secrets-staging", "secretName: x"))

    found = problems(testing.PIPELINE)

    assert len(found) == 1 and "secretName must be 'prefect-jobs-secrets-staging'" in found[0], found
