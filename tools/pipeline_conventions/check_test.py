"""Broken examples for every prefect.yaml rule of the conventions check (validation by pipeline_platform.spec,
the deploy tool's own, so lint and deploy agree), each in a copy of one valid pipeline."""

from __future__ import annotations

import os
import re
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
        "parameters": {"attempts": 5, "api_url": "https://api.example/v1"},
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
    shutil.copytree(Path("infra/work-pools"), tmp_path / "infra/work-pools")
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
        (rename_to_other_dir, "deployment name 'rj-cor--alertario--prod' must be 'rj-smtr--exemplo--prod'"),
        (underscores_in_name, "deployment name 'rj_smtr__exemplo__prod' must be 'rj-smtr--exemplo--prod'"),
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
    assert all(re.match(rf"pipelines/{NAME}/prefect.yaml:\d+: ", problem) for problem in found), found
    assert any(expected in problem for problem in found), found


def test_command_line_prints_problems_and_fails(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = valid_config()
    unknown_pool(config)
    write_config(repo, config)
    (repo / "pipelines" / "rj_Bad").mkdir()

    assert main(["pipelines", f"pipelines/{NAME}", "pipelines/rj_Bad", "pipelines/common"]) == 1

    output = capsys.readouterr().out.splitlines()
    assert output[0].startswith("pipelines/rj_Bad/: 'rj_Bad' is not a valid pipeline directory name")
    assert any(re.match(rf"pipelines/{NAME}/prefect.yaml:\d+: ", line) for line in output)
    assert output[-1] == f"{len(output) - 1} problem(s) in 3 director(y/ies)."


def test_command_line_passes_on_valid_pipelines(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pipelines", f"pipelines/{NAME}"]) == 0
    assert capsys.readouterr().out == "0 problem(s) in 1 director(y/ies).\n"


def add_pipeline(repo: Path, name: str, config: Config | None = None, flow: str | None = None) -> Path:
    """Another pipeline beside the valid one: the same files, names of ``name``."""
    directory = repo / "pipelines" / name
    directory.mkdir(parents=True)
    for file in ("BUILD", "Dockerfile", "__init__.py"):
        (directory / file).write_text("")
    (directory / "flow.py").write_text((flow or FLOW).replace(NAME, name))
    text = yaml.safe_dump(config or valid_config(), sort_keys=False)
    dashed = "rj-" + name[3:].replace("_", "-")
    (directory / "prefect.yaml").write_text(text.replace(NAME, name).replace("rj-smtr--exemplo", dashed))
    return directory


EXITING_FLOW = FLOW.replace(
    "from prefect import flow\n",
    "import sys\n\nfrom prefect import flow\n\n\nclass Buckets:\n    if True:\n        sys.exit(3)\n",
).replace("attempts: int = 3", "attempts: int = 3, buckets: Buckets | None = None")


def test_every_pipeline_is_reported_even_when_one_cannot_be_read(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = valid_config()
    staging_with_prod_secret(config)
    write_config(repo, config)
    add_pipeline(repo, "rj_smtr__binario").joinpath("prefect.yaml").write_bytes(b"\x00\xff\xfe garbage")
    add_pipeline(repo, "rj_smtr__sai_ao_ler", flow=EXITING_FLOW)  # crashed the whole lint run
    dangling = add_pipeline(repo, "rj_smtr__link") / "prefect.yaml"
    dangling.unlink()
    dangling.symlink_to("nowhere.yaml")
    os.symlink("rj_smtr__loop", repo / "pipelines" / "rj_smtr__loop")  # a link to itself: nothing can be read
    add_pipeline(repo, "rj_sec__1746_tickets")  # valid (a pipeline part may start with a digit)
    names = [
        "rj_sec__1746_tickets",
        "rj_smtr__binario",
        NAME,
        "rj_smtr__link",
        "rj_smtr__loop",
        "rj_smtr__sai_ao_ler",
    ]

    assert main(["pipelines", *(f"pipelines/{name}" for name in names)]) == 1

    output = capsys.readouterr().out.splitlines()
    assert output[-1] == f"{len(output) - 1} problem(s) in {len(names)} director(y/ies)."
    by_pipeline = {name: [line for line in output if line.startswith(f"pipelines/{name}/")] for name in names}
    assert by_pipeline["rj_sec__1746_tickets"] == []
    assert by_pipeline["rj_smtr__binario"] == [
        "pipelines/rj_smtr__binario/prefect.yaml:1: is not a text file (it holds NUL bytes): write the YAML "
        "as UTF-8 text"
    ]
    rows = (repo / "pipelines" / NAME / "prefect.yaml").read_text().splitlines()
    secret_line = [n for n, row in enumerate(rows, 1) if "secretName:" in row][1]  # staging's
    assert [line.split(": ")[0] for line in by_pipeline[NAME]] == [
        f"pipelines/{NAME}/prefect.yaml:{secret_line}"
    ]
    assert "secretName must be 'prefect-jobs-secrets-staging' for staging" in by_pipeline[NAME][0]
    assert by_pipeline["rj_smtr__link"] == [
        "pipelines/rj_smtr__link/prefect.yaml: missing: every pipeline has BUILD, Dockerfile, flow.py, "
        "prefect.yaml (create it from templates/)"
    ]
    assert len(by_pipeline["rj_smtr__loop"]) == 4  # its four required files, none readable
    assert [line.split(": ")[0] for line in by_pipeline["rj_smtr__sai_ao_ler"]] == [
        "pipelines/rj_smtr__sai_ao_ler/flow.py:14"
    ]
    assert (
        "Prefect cannot read the parameters of flow 'rj_smtr__sai_ao_ler'"
        in by_pipeline["rj_smtr__sai_ao_ler"][0]
    )


def test_a_rejected_directory_name_is_reported_once_and_its_prefect_yaml_still_checked(repo: Path) -> None:
    config = valid_config()
    staging_with_prod_secret(config)
    directory = add_pipeline(repo, "rj_smtr__Onibus", config)

    found = [str(problem) for problem in check_pipelines([Path("pipelines/rj_smtr__Onibus")])]

    assert len(found) == 2, found
    assert found[0].startswith(
        "pipelines/rj_smtr__Onibus/: 'rj_smtr__Onibus' is not a valid pipeline directory"
    )
    assert found[1].startswith(f"{directory.relative_to(repo)}/prefect.yaml:")
    assert found[1].endswith(
        "secretName must be 'prefect-jobs-secrets-staging' for staging, not 'prefect-jobs-secrets'"
    )
