"""prefect.yaml validation on real files, with Prefect's models and the committed work pool templates."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline_platform.repo_root import find_repo_root
from pipeline_platform.spec import Problem, SpecError, load_pipeline, validate_pipeline
from pipeline_platform.testing import IMAGE, PIPELINE, deployment, prefect_yaml, write_pipeline

TEMPLATES = find_repo_root() / "infra" / "work-pools"


def pipeline_with(tmp_path: Path, document: dict[str, Any] | str) -> Path:
    return write_pipeline(tmp_path, document, templates=TEMPLATES)


def reasons(tmp_path: Path, document: dict[str, Any] | str) -> list[str]:
    return [problem.reason for problem in validate_pipeline(pipeline_with(tmp_path, document))]


def test_a_valid_prefect_yaml_loads_into_deployments_ready_to_register(tmp_path: Path) -> None:
    spec = load_pipeline(pipeline_with(tmp_path, prefect_yaml()))

    staging = spec.for_environment("staging")[0]
    assert staging.name == f"{IMAGE}--staging"
    assert staging.flow_name == PIPELINE
    assert staging.work_pool == "datario-pool"
    assert staging.parameters == {"table": "chamado"}
    assert staging.parameter_schema["required"] == ["table"]
    assert set(staging.parameter_schema["properties"]) == {"table", "batch_size", "lake_uri"}
    schedules = staging.schedule_objects()
    assert [schedule.schedule.cron for schedule in schedules] == ["0 3 * * *", "30 12 * * 1-5"]  # type: ignore[union-attr]
    assert {str(schedule.schedule.timezone) for schedule in schedules} == {"America/Sao_Paulo"}  # type: ignore[union-attr]
    assert schedules[1].parameters == {"batch_size": 50}
    assert staging.rendered_job_variables("abc1234") == {
        "image": f"{IMAGE}:abc1234",
        "secretName": "prefect-jobs-secrets-staging",
        "image_pull_policy": "Always",
    }
    assert (
        staging.rendered_job_variables("abc1234", "registry.rio/x:abc1234")["image"]
        == "registry.rio/x:abc1234"
    )


def test_the_file_and_line_of_a_typo_are_reported_with_a_suggestion(tmp_path: Path) -> None:
    text = prefect_yaml_text(lambda d: d["deployments"][1]["work_pool"].update(job_variable={}))
    problems = validate_pipeline(pipeline_with(tmp_path, text))

    assert len(problems) == 1
    problem = problems[0]
    assert problem.path == str(tmp_path / "pipelines" / PIPELINE / "prefect.yaml")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "job_variable:" in row)
    assert problem.line == line
    assert problem.reason.startswith("deployments[1].work_pool.job_variable: ")
    assert "unknown key 'job_variable' (did you mean 'job_variables'?)" in problem.reason
    assert str(problem) == f"{problem.path}:{line}: {problem.reason}"


def test_a_problem_without_a_line_prints_as_before() -> None:
    problem = Problem("pipelines/x/prefect.yaml", "missing")

    assert problem.line is None
    assert str(problem) == "pipelines/x/prefect.yaml: missing"
    assert sorted([Problem("a", "z", 9), Problem("a", "y", 10), problem, Problem("a", "x")]) == [
        Problem("a", "x"),
        Problem("a", "z", 9),
        Problem("a", "y", 10),
        problem,
    ]


def prefect_yaml_text(change: Callable[[dict[str, Any]], object]) -> str:
    import yaml

    document = prefect_yaml()
    change(document)
    return yaml.safe_dump(document, sort_keys=False)


def staging(**changes: Any) -> dict[str, Any]:
    return prefect_yaml(deployments=[deployment("prod"), deployment("staging", **changes)])


def staging_job_variables(**changes: Any) -> dict[str, Any]:
    variables = deployment("staging")["work_pool"]["job_variables"] | changes
    return staging(work_pool={"name": "datario-pool", "job_variables": variables})


def unscheduled_staging(**changes: Any) -> dict[str, Any]:
    document = staging(**changes)
    del document["deployments"][1]["schedules"]
    return document


def staging_schedule(**schedule: Any) -> dict[str, Any]:
    return staging(schedules=[schedule])


CASES: dict[str, tuple[dict[str, Any] | str, str]] = {
    "top-level typo": (prefect_yaml(deployment=[]), "unknown key 'deployment' (did you mean 'deployments'?)"),
    "invalid YAML": ("deployments: [\n  - name: x\n", "not valid YAML"),
    "name of another pipeline": (
        prefect_yaml(name="rj_outro__nome"),
        f"must be the directory name '{PIPELINE}'",
    ),
    "unknown environment": (staging(name=f"{IMAGE}--dev"), f"must be one of {IMAGE}--prod, {IMAGE}--staging"),
    "name of another pipeline, environment known": (
        staging(name="rj-outro--nome--staging"),
        f"deployment name 'rj-outro--nome--staging' must be '{IMAGE}--staging'",
    ),
    "two deployments for staging": (
        prefect_yaml(deployments=[deployment("staging"), deployment("staging")]),
        "a second deployment for 'staging'",
    ),
    "build step": (
        prefect_yaml(build=[{"prefect_docker.deployments.steps.build_docker_image": {}}]),
        "`build:` steps are not run here",
    ),
    "pull elsewhere": (
        prefect_yaml(pull=[{"prefect.deployments.steps.set_working_directory": {"directory": "/tmp"}}]),
        "set_working_directory step to /opt/prefect",
    ),
    "prod secret in staging": (
        staging_job_variables(secretName="prefect-jobs-secrets"),
        "secretName must be 'prefect-jobs-secrets-staging' for staging",
    ),
    "unknown work pool": (
        staging(work_pool={"name": "gpu-pool", "job_variables": {}}),
        "unknown work pool 'gpu-pool'",
    ),
    "job variable the template does not declare": (
        staging_job_variables(image_pul_policy="Never"),
        "job variable 'image_pul_policy' is not declared by the datario-pool template (did you mean "
        "'image_pull_policy'?)",
    ),
    "job variable outside the template's schema": (
        staging_job_variables(image_pull_policy="Sometimes"),
        "invalid job variable: 'Sometimes' is not one of",
    ),
    "image of another pipeline": (
        staging_job_variables(image="rj-outro--nome:{{ $IMAGE_TAG }}"),
        "image must be 'rj-teste--exemplo:{{ $IMAGE_TAG }}'",
    ),
    "a placeholder that renders empty when unset": (
        staging(description="build {{ $BUILD_NUMBER }}"),
        "placeholder '{{ $BUILD_NUMBER }}' is not supported",
    ),
    "invalid cron": (
        staging_schedule(cron="61 * * * *", timezone="America/Sao_Paulo"),
        'Invalid cron string: "61 * * * *"',
    ),
    "invalid timezone": (
        staging_schedule(cron="0 3 * * *", timezone="America/Sao_Pualo"),
        'Invalid timezone: "America/Sao_Pualo"',
    ),
    "schedule without timezone": (staging_schedule(cron="0 3 * * *"), "explicit `timezone:`"),
    "schedule key typo": (
        staging_schedule(cron="0 3 * * *", timezone="America/Sao_Paulo", activ=True),
        "unknown key 'activ' (did you mean 'active'?)",
    ),
    "parameter the flow does not accept": (
        staging(parameters={"table": "chamado", "tabel": "x"}),
        "parameter 'tabel' is not accepted by the flow (did you mean 'table'?)",
    ),
    "schedule parameter the flow does not accept": (
        staging_schedule(cron="0 3 * * *", timezone="America/Sao_Paulo", parameters={"batch": 1}),
        "parameter 'batch' is not accepted by the flow (did you mean 'batch_size'?)",
    ),
    "parameter of the wrong type": (
        staging(parameters={"table": "chamado", "batch_size": "muitos"}),
        "invalid value for the flow's signature: 'muitos' is not of type 'integer'",
    ),
    "required parameter missing": (staging(parameters={}), "the flow requires parameter 'table'"),
    "required parameter missing from a run by hand that skips the schema": (
        unscheduled_staging(parameters={}, enforce_parameter_schema=False),
        "`enforce_parameter_schema: false` lets a run start without it",
    ),
    "required parameter missing from one schedule": (
        staging(parameters={}, schedules=[{"cron": "0 3 * * *", "timezone": "America/Sao_Paulo"}]),
        "the flow requires parameter 'table' and no value is given for every run",
    ),
    "singular schedule holding a list": (
        staging(schedules=None, schedule=[{"cron": "0 3 * * *", "timezone": "America/Sao_Paulo"}]),
        "`schedule:` holds a list: write `schedules:` (plural)",
    ),
    "schedule key Prefect 3 rejects": (
        staging_schedule(cron="0 3 * * *", timezone="America/Sao_Paulo", flow_run_name="dump"),
        "unknown schedule key 'flow_run_name': Prefect 3 rejects it too; a schedule does not name its runs",
    ),
    "build-step output": (
        staging(version="{{ build-image.tag }}"),
        "are outputs of build steps ('build-image'), which this repository does not run",
    ),
    "duplicate key": (
        prefect_yaml_text(lambda d: None) + "name: rj_teste__exemplo\n",
        "duplicate key 'name' (first at line 1): YAML keeps only the last one",
    ),
    "tab in the indentation": (
        prefect_yaml_text(lambda d: None).replace("\n  description:", "\n\tdescription:", 1),
        "a tab in the indentation",
    ),
    "entrypoint file missing": (
        staging(entrypoint=f"pipelines/{PIPELINE}/fluxo.py:{PIPELINE}"),
        f"entrypoint file pipelines/{PIPELINE}/fluxo.py does not exist",
    ),
    "entrypoint function missing": (
        staging(entrypoint=f"pipelines/{PIPELINE}/flow.py:outro"),
        "has no function 'outro' decorated with @flow",
    ),
    "entrypoint is not a flow": (
        staging(entrypoint=f"pipelines/{PIPELINE}/flow.py:not_a_flow"),
        "has no function 'not_a_flow' decorated with @flow",
    ),
    "entrypoint in another pipeline": (
        staging(entrypoint="pipelines/rj_outro__nome/flow.py:rj_outro__nome"),
        f"must be a file under pipelines/{PIPELINE}/",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_rule_is_reported_and_blocks_loading(tmp_path: Path, case: str) -> None:
    document, expected = CASES[case]

    found = reasons(tmp_path, document)

    assert any(expected in reason for reason in found), found
    with pytest.raises(SpecError) as raised:
        load_pipeline(tmp_path / "pipelines" / PIPELINE)
    assert expected in str(raised.value)


def test_a_directory_off_the_naming_rule_is_reported_and_its_prefect_yaml_still_checked(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "pipelines" / "Meu-Pipeline"
    directory.mkdir(parents=True)

    problems = validate_pipeline(directory)

    assert [problem.path for problem in problems] == [f"{directory}/", str(directory / "prefect.yaml")]
    assert "not a valid pipeline directory name" in problems[0].reason
    assert problems[1].reason == "missing: every pipeline declares its deployments here"


def test_an_empty_deployment_list_is_a_switched_off_pipeline(tmp_path: Path) -> None:
    directory = pipeline_with(tmp_path, prefect_yaml(deployments=[]))

    assert validate_pipeline(directory) == []
    spec = load_pipeline(directory)
    assert spec.deployments == ()
    assert spec.for_environment("prod") == spec.for_environment("staging") == ()


def test_deployments_that_are_not_a_list_are_reported(tmp_path: Path) -> None:
    found = reasons(tmp_path, prefect_yaml(deployments="rj-teste--exemplo--prod"))

    assert any("must be a list of deployments" in reason for reason in found), found


def test_a_missing_prefect_yaml_is_reported(tmp_path: Path) -> None:
    directory = write_pipeline(tmp_path, templates=TEMPLATES)
    (directory / "prefect.yaml").unlink()

    assert [problem.reason for problem in validate_pipeline(directory)] == [
        "missing: every pipeline declares its deployments here"
    ]


def test_a_required_parameter_given_by_every_schedule_is_accepted(tmp_path: Path) -> None:
    schedules = [
        {"cron": "0 3 * * *", "timezone": "America/Sao_Paulo", "parameters": {"table": "chamado"}},
        {"cron": "0 4 * * *", "timezone": "America/Sao_Paulo", "parameters": {"table": "bairro"}},
    ]

    spec = load_pipeline(pipeline_with(tmp_path, staging(parameters={}, schedules=schedules)))

    deployment = spec.for_environment("staging")[0]
    assert deployment.parameters == {}
    assert [schedule.parameters for schedule in deployment.schedule_objects()] == [
        {"table": "chamado"},
        {"table": "bairro"},
    ]


def test_a_deployment_run_by_hand_may_leave_required_parameters_to_the_run(tmp_path: Path) -> None:
    """No schedule: whoever starts a run gives the values, and Prefect refuses a run without them."""
    spec = load_pipeline(pipeline_with(tmp_path, unscheduled_staging(parameters={})))

    deployment = spec.for_environment("staging")[0]
    assert deployment.parameters == {}
    assert deployment.parameter_schema["required"] == ["table"]
    assert deployment.schedule_objects() == []


STAGING_WITH_PROD_SECRET = (
    "secretName must be 'prefect-jobs-secrets-staging' for staging, not 'prefect-jobs-secrets'"
)


def with_prod_secret(**changes: Any) -> dict[str, Any]:
    """The staging deployment carrying the prod secret, with other changes."""
    broken = deployment("staging", **changes)
    broken["work_pool"] = copy.deepcopy(broken["work_pool"])
    broken["work_pool"]["job_variables"]["secretName"] = "prefect-jobs-secrets"
    return prefect_yaml(deployments=[deployment("prod"), broken])


# Each breaks another rule of the same deployment; none may hide the secret (the README's security rule).
OTHER_BREAKAGES: dict[str, dict[str, Any]] = {
    "unknown work pool": {"work_pool": {"name": "k3s-pool", "job_variables": {"secretName": "x"}}},
    "name with underscores": {"name": "rj_teste__exemplo__staging"},
    "name of another pipeline": {"name": "rj-outro--nome--staging"},
    "unknown key": {"descripton": "typo"},
    "invalid cron": {"schedules": [{"cron": "61 * * * *", "timezone": "America/Sao_Paulo"}]},
    "unknown schedule key": {"schedules": [{"cron": "0 3 * * *", "timezone": "UTC", "deployment_name": "x"}]},
    "singular schedule": {"schedules": None, "schedule": [{"cron": "0 3 * * *", "timezone": "UTC"}]},
    "missing entrypoint file": {"entrypoint": f"pipelines/{PIPELINE}/fluxo.py:{PIPELINE}"},
    "entrypoint function missing": {"entrypoint": f"pipelines/{PIPELINE}/flow.py:outro"},
    "wrong parameter type": {"parameters": {"table": 1}},
    "placeholder": {"description": "{{ $BUILD }}"},
    "flow_name": {"flow_name": "outro"},
    "tags of the wrong type": {"tags": 5},
}


@pytest.mark.parametrize("breakage", list(OTHER_BREAKAGES))
def test_a_staging_deployment_with_the_prod_secret_is_always_reported(tmp_path: Path, breakage: str) -> None:
    document = with_prod_secret(**OTHER_BREAKAGES[breakage])

    found = reasons(tmp_path, document)

    assert any(reason.endswith(STAGING_WITH_PROD_SECRET) for reason in found), found
    assert len(found) >= 2, found  # and the other breakage


def test_a_misspelt_job_variables_key_is_still_checked(tmp_path: Path) -> None:
    document = with_prod_secret()
    pool = document["deployments"][1]["work_pool"]
    pool["job_variable"] = pool.pop("job_variables")

    found = reasons(tmp_path, document)

    assert len(found) == 2, found
    assert "unknown key 'job_variable' (did you mean 'job_variables'?)" in found[0]
    assert found[1].endswith(STAGING_WITH_PROD_SECRET)


def test_a_broken_flow_file_is_reported_at_its_line_and_the_yaml_still_checked(tmp_path: Path) -> None:
    directory = pipeline_with(tmp_path, with_prod_secret())
    flow = directory / "flow.py"
    source = flow.read_text().replace("    return batch_size", "    return (batch_size")
    flow.write_text(source)
    line = next(n for n, row in enumerate(source.splitlines(), 1) if "return (" in row)

    problems = validate_pipeline(directory)

    assert (problems[0].path, problems[0].line) == (str(flow), line)
    assert problems[0].reason.startswith("syntax error: ")
    assert problems[1].reason.endswith(STAGING_WITH_PROD_SECRET)
    assert len(problems) == 2


def test_problems_are_sorted_by_line(tmp_path: Path) -> None:
    document = with_prod_secret(name="rj-teste--exemplo--dev", tags=5)
    document["deployments"][0]["parameters"] = {"tabela": "x"}

    problems = validate_pipeline(pipeline_with(tmp_path, document))

    lines = [problem.line or 0 for problem in problems]
    assert len(lines) >= 4 and 0 not in lines
    assert lines == sorted(lines)
