"""Broken examples for every prefect.yaml rule of the conventions check (validation by pipeline_platform.spec,
the deploy tool's own, so lint and deploy agree), each in a copy of one valid pipeline."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline_conventions.check import check_pipelines, main
from pipelines.common.naming import SECRET_NAMES

NAME = "rj_smtr__exemplo"
FLOW = f'''"""Example flow."""

from prefect import flow


@flow(name="{NAME}")
def {NAME}(api_url: str | None = None, attempts: int = 3) -> int:
    return attempts
'''
Config = dict[str, Any]


def deployment(environment: str) -> Config:
    return {
        "name": f"rj-smtr--exemplo--{environment}",
        "entrypoint": f"pipelines/{NAME}/flow.py:{NAME}",
        "schedules": [
            {"cron": "*/5 * * * *", "timezone": "America/Sao_Paulo", "active": environment == "prod"}
        ],
        "parameters": {"attempts": 5},
        "work_pool": {
            "name": "default-pool",
            "job_variables": {
                "image": "rj-smtr--exemplo:{{ $IMAGE_TAG }}",
                "secretName": (
                    "prefect-jobs-secrets" if environment == "prod" else "prefect-jobs-secrets-staging"
                ),
                "image_pull_policy": "Always",
            },
        },
    }


def valid_config() -> Config:
    return {
        "name": NAME,
        "prefect-version": "3.9.1",
        "build": None,
        "push": None,
        "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": "/opt/prefect"}}],
        "deployments": [deployment("prod"), deployment("staging")],
    }


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with the committed work pool templates and one valid pipeline; the working directory."""
    shutil.copytree(Path(".github/work-pools"), tmp_path / ".github/work-pools")
    pipeline = tmp_path / "pipelines" / NAME
    pipeline.mkdir(parents=True)
    for file in ("BUILD", "Dockerfile", "__init__.py"):
        (pipeline / file).write_text("")
    (pipeline / "flow.py").write_text(FLOW)
    write_config(tmp_path, valid_config())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(repo: Path, config: Config) -> None:
    (repo / "pipelines" / NAME / "prefect.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def problems(repo: Path) -> list[str]:
    return [str(problem) for problem in check_pipelines([Path("pipelines") / NAME])]


def test_valid_pipeline_passes(repo: Path) -> None:
    assert problems(repo) == []


def staging(config: Config) -> Config:
    result: Config = config["deployments"][1]
    return result


def rename_to_other_dir(config: Config) -> None:
    config["deployments"][0]["name"] = "rj-cor--alertario--prod"


def underscores_in_name(config: Config) -> None:
    config["deployments"][0]["name"] = "rj_smtr__exemplo__prod"


def unknown_environment(config: Config) -> None:
    staging(config)["name"] = "rj-smtr--exemplo--dev"


def unknown_pool(config: Config) -> None:
    staging(config)["work_pool"]["name"] = "gpu-pool"


def prod_with_staging_secret(config: Config) -> None:
    config["deployments"][0]["work_pool"]["job_variables"]["secretName"] = SECRET_NAMES["staging"]


def staging_with_prod_secret(config: Config) -> None:
    staging(config)["work_pool"]["job_variables"]["secretName"] = SECRET_NAMES["prod"]


def invalid_cron(config: Config) -> None:
    staging(config)["schedules"][0]["cron"] = "61 * * * *"


def invalid_timezone(config: Config) -> None:
    staging(config)["schedules"][0]["timezone"] = "America/Rio_de_Janeiro_Centro"


def missing_entrypoint_file(config: Config) -> None:
    staging(config)["entrypoint"] = f"pipelines/{NAME}/fluxo.py:{NAME}"


def parameter_the_flow_does_not_accept(config: Config) -> None:
    staging(config)["parameters"] = {"tentativas": 5}


def typo_in_a_key(config: Config) -> None:
    pool = staging(config)["work_pool"]
    pool["job_variable"] = pool.pop("job_variables")


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (rename_to_other_dir, "deployment name 'rj-cor--alertario--prod' must be one of"),
        (underscores_in_name, "deployment name 'rj_smtr__exemplo__prod' must be one of"),
        (unknown_environment, "deployment name 'rj-smtr--exemplo--dev' must be one of"),
        (unknown_pool, "unknown work pool 'gpu-pool'"),
        (prod_with_staging_secret, "secretName must be 'prefect-jobs-secrets' for prod"),
        (staging_with_prod_secret, "secretName must be 'prefect-jobs-secrets-staging' for staging"),
        (invalid_cron, "61 * * * *"),
        (invalid_timezone, "America/Rio_de_Janeiro_Centro"),
        (missing_entrypoint_file, f"entrypoint file pipelines/{NAME}/fluxo.py does not exist"),
        (parameter_the_flow_does_not_accept, "parameter 'tentativas' is not accepted by the flow"),
        (typo_in_a_key, "unknown key 'job_variable' (did you mean 'job_variables'?)"),
    ],
)
def test_broken_prefect_yaml_is_reported_with_file_and_reason(
    repo: Path, breakage: Callable[[Config], None], expected: str
) -> None:
    config = valid_config()
    breakage(config)
    write_config(repo, config)

    found = problems(repo)

    assert found, f"no problem reported for {breakage.__name__}"
    assert all(problem.startswith(f"pipelines/{NAME}/prefect.yaml: ") for problem in found), found
    assert any(expected in problem for problem in found), found


def test_command_line_prints_problems_and_fails(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = valid_config()
    unknown_pool(config)
    write_config(repo, config)
    (repo / "pipelines" / "rj_Bad").mkdir()

    assert main(["pipelines", f"pipelines/{NAME}", "pipelines/rj_Bad", "pipelines/common"]) == 1

    output = capsys.readouterr().out.splitlines()
    assert output[0].startswith("pipelines/rj_Bad/: 'rj_Bad' is not a valid pipeline directory name")
    assert any(line.startswith(f"pipelines/{NAME}/prefect.yaml: ") for line in output)
    assert output[-1] == f"{len(output) - 1} problem(s) in 3 director(y/ies)."


def test_command_line_passes_on_valid_pipelines(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipelines", f"pipelines/{NAME}"]) == 0
    assert capsys.readouterr().out == "0 problem(s) in 1 director(y/ies).\n"
