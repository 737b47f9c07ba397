"""The cookiecutter template (templates/, ignored by Pants, read from the working tree): its answers' checks
agree with pipelines/common/naming.py, bad answers write nothing, good ones give a complete pipeline."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException, OutputDirExistsException
from cookiecutter.main import cookiecutter

from pipeline_conventions.secret_scan import BASELINE_FILE, scan
from pipelines.common.naming import ENVIRONMENTS, SECRET_NAMES, WORK_POOLS, NamingError, PipelineName
from repo_testing.workspace import REPO_ROOT

TEMPLATE = REPO_ROOT / "templates"
ANSWERS = {
    "secretaria": "smtr",
    "pipeline": "gps_sppo",
    "description": "Captura das posições GPS dos ônibus (SPPO).",
    "work_pool": "datario-pool",
    "schedule": "*/5 * * * *",
}
# The files of a new pipeline of either kind (`api` adds tasks.py, `dump_db` its queries/).
EVERY_KIND_FILES = [
    "BUILD",
    "Dockerfile",
    "README.md",
    "__init__.py",
    "flow.py",
    "flow_test.py",
    "image_test.py",
    "prefect.yaml",
]
GOOD_NAMES = [
    ("smtr", "gps_brt"),
    ("segovi", "dump_db_1746"),
    ("cor", "alertario_precipitacao"),
    ("sme", "a1"),
    ("rj2", "x"),
    ("iplan_rio", "dump_db_sigma_2"),
    ("sec", "1746_tickets"),
]
BAD_NAMES = [
    ("SMTR", "gps"),
    ("smtr", "GPS"),
    ("são", "gps"),
    ("smtr", "gps brt"),
    ("smtr", "gps-brt"),
    ("1746", "dump"),
    ("smtr", "_gps"),
    ("smtr", "gps_"),
    ("smtr", "gps__brt"),
    ("smtr", ""),
    ("", "gps"),
    ("sm.tr", "gps"),
    ("smtr", "gpsé"),
]


def load_hook() -> ModuleType:
    """The pre-generation hook as a module (its Jinja only sits inside main(), which is not run here)."""
    spec = importlib.util.spec_from_file_location(
        "pre_gen_project", TEMPLATE / "hooks" / "pre_gen_project.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOK = load_hook()


def naming_accepts(secretaria: str, pipeline: str) -> bool:
    try:
        name = PipelineName.from_dir(f"rj_{secretaria}__{pipeline}")
    except NamingError:
        return False
    return (name.secretaria, name.pipeline) == (secretaria, pipeline)


def hook_accepts(secretaria: str, pipeline: str) -> bool:
    return (
        HOOK.name_problem("secretaria", secretaria) is None
        and HOOK.name_problem("pipeline", pipeline) is None
    )


@pytest.mark.parametrize(("secretaria", "pipeline"), GOOD_NAMES + BAD_NAMES)
def test_hook_and_naming_agree_on_names(secretaria: str, pipeline: str) -> None:
    expected = (secretaria, pipeline) in GOOD_NAMES
    assert naming_accepts(secretaria, pipeline) is expected
    assert hook_accepts(secretaria, pipeline) is expected


@pytest.mark.parametrize(("secretaria", "pipeline"), GOOD_NAMES)
def test_hook_derives_the_names_naming_derives(secretaria: str, pipeline: str) -> None:
    name = PipelineName(secretaria, pipeline)
    assert HOOK.pipeline_dir_name(secretaria, pipeline) == name.dir_name
    for environment in ENVIRONMENTS:
        assert HOOK.deployment_name(secretaria, pipeline, environment) == name.deployment_name(environment)


def test_hook_knows_the_work_pools_naming_knows() -> None:
    assert tuple(HOOK.WORK_POOLS) == WORK_POOLS


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("São", "acentos"),
        ("gps brt", "espaços"),
        ("GPS", "maiúsculas"),
        ("_gps", "_ duplo, no início"),
        ("gps-brt", "hífen"),
        ("gps__brt", "_ duplo"),
    ],
)
def test_name_problems_say_what_is_wrong(value: str, words: str) -> None:
    problem = HOOK.name_problem("pipeline", value)
    assert problem is not None and words in problem


@pytest.mark.parametrize(
    "expression",
    ["* * * * *", "*/15 * * * *", "0 3 * * *", "0 8-18/2 * * mon-fri", "30 1 1,15 jan,jul *", "@daily"],
)
def test_valid_cron_expressions_pass(expression: str) -> None:
    assert HOOK.cron_problem(expression) is None


@pytest.mark.parametrize(
    "expression",
    ["", "* * * *", "61 * * * *", "0 24 * * *", "0 0 32 * *", "0 0 * 13 *", "*/0 * * * *", "0 3 * * x"],
)
def test_invalid_cron_expressions_are_rejected(expression: str) -> None:
    assert HOOK.cron_problem(expression) is not None


def render(output_dir: Path, **answers: str) -> Path:
    return Path(
        cookiecutter(
            str(TEMPLATE), no_input=True, extra_context={**ANSWERS, **answers}, output_dir=str(output_dir)
        )
    )


@pytest.fixture
def pipelines_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "pipelines"
    directory.mkdir()
    return directory


def test_rendered_pipeline_has_every_file_and_derived_name(pipelines_dir: Path) -> None:
    created = render(pipelines_dir)
    name = PipelineName("smtr", "gps_sppo")

    assert created == pipelines_dir / name.dir_name
    assert sorted(path.name for path in created.iterdir()) == sorted([*EVERY_KIND_FILES, "tasks.py"])
    assert (created / "BUILD").read_text() == "prefect_pipeline()\n"
    dockerfile = (created / "Dockerfile").read_text()
    assert "ARG PIPELINE_IMAGE=:standard-image\nFROM $PIPELINE_IMAGE" in dockerfile  # the shared recipe
    assert f"Image of {name.dir_name}:" in dockerfile
    flow = (created / "flow.py").read_text()
    assert f'@flow(name="{name.dir_name}")\ndef {name.dir_name}(' in flow
    readme = (created / "README.md").read_text()
    assert name.deployment_name("staging") in readme and ANSWERS["description"] in readme


def deployments_by_environment(created: Path) -> dict[str, dict[str, Any]]:
    """The rendered prefect.yaml's deployments by environment (there must be exactly one for each)."""
    name = PipelineName.from_dir(created.name)
    config: dict[str, Any] = yaml.safe_load((created / "prefect.yaml").read_text())
    deployments = {deployment["name"]: deployment for deployment in config["deployments"]}
    assert sorted(deployments) == sorted(name.deployment_name(env) for env in ENVIRONMENTS)
    return {environment: deployments[name.deployment_name(environment)] for environment in ENVIRONMENTS}


def test_rendered_prefect_yaml_has_one_deployment_per_environment(pipelines_dir: Path) -> None:
    created = render(pipelines_dir)
    name = PipelineName.from_dir(created.name)
    for environment, deployment in deployments_by_environment(created).items():
        assert deployment["entrypoint"] == f"pipelines/{name.dir_name}/flow.py:{name.dir_name}"
        assert deployment["description"] == ANSWERS["description"]
        assert deployment["schedules"] == [
            {"cron": "*/5 * * * *", "timezone": "America/Sao_Paulo", "active": environment == "prod"}
        ]
        assert deployment["work_pool"] == {
            "name": "datario-pool",
            "job_variables": {
                "image": f"{name.image_name}:{{{{ $IMAGE_TAG }}}}",
                "secretName": SECRET_NAMES[environment],
                "image_pull_policy": "Always",
            },
        }


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"secretaria": "SMTR"}, "secretaria 'SMTR' tem letras maiúsculas"),
        ({"pipeline": "gps brt"}, "pipeline 'gps brt' tem espaços"),
        ({"pipeline": "ônibus"}, "pipeline 'ônibus' tem acentos"),
        ({"secretaria": "1746"}, "secretaria '1746' não começa com uma letra"),
        ({"schedule": "0 25 * * *"}, "agendamento '0 25 * * *': hora '25' inválido"),
        ({"description": ""}, "descrição vazia"),
        ({"pipeline": "captura_de_teste_do_template_com_nome_longo_xy"}, "nome longo demais"),
        ({"description": 'com "aspas"'}, "sem aspas duplas"),
    ],
)
def test_bad_answers_write_nothing_and_say_why(
    pipelines_dir: Path, capfd: pytest.CaptureFixture[str], answers: dict[str, str], message: str
) -> None:
    with pytest.raises(FailedHookException):
        render(pipelines_dir, **answers)

    assert list(pipelines_dir.iterdir()) == []
    assert message in capfd.readouterr().err


def test_existing_pipeline_is_never_overwritten(
    pipelines_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    existing = pipelines_dir / "rj_smtr__gps_sppo"
    existing.mkdir()
    (existing / "flow.py").write_text("# mine\n")

    with pytest.raises(OutputDirExistsException):
        render(pipelines_dir)
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context=ANSWERS,
            output_dir=str(pipelines_dir),
            overwrite_if_exists=True,
        )

    assert "já existe" in capfd.readouterr().err
    assert [path.name for path in existing.iterdir()] == ["flow.py"]
    assert (existing / "flow.py").read_text() == "# mine\n"


def test_rendering_outside_pipelines_is_rejected(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(FailedHookException):
        render(tmp_path)

    assert list(tmp_path.iterdir()) == []
    assert "--output-dir=pipelines" in capfd.readouterr().err


def load_new_pipeline_script() -> ModuleType:
    path = REPO_ROOT / "tools" / "new_pipeline.py"
    spec = importlib.util.spec_from_file_location("new_pipeline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_without_uv_creates_the_same_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "repo"
    shutil.copytree(TEMPLATE, root / "templates")
    (root / "pipelines").mkdir()
    monkeypatch.setenv("PIPELINES_REPO_ROOT", str(root))
    script = load_new_pipeline_script()

    answers = [f"{key}={value}" for key, value in ANSWERS.items()]
    assert script.main(["--no-input", *answers]) == 0
    assert script.main(["--no-input", *answers]) == 1  # exists now
    assert script.main(["--no-input", *answers, "pipeline=Gps"]) == 1

    assert [path.name for path in (root / "pipelines").iterdir()] == ["rj_smtr__gps_sppo"]
    reference = tmp_path / "reference" / "pipelines"
    reference.mkdir(parents=True)
    for file in render(reference).iterdir():
        assert (root / "pipelines" / "rj_smtr__gps_sppo" / file.name).read_text() == file.read_text()


def test_template_holds_no_secret() -> None:
    """Pants ignores templates/, so `./pants lint` does not scan it: this does, with the same baseline."""
    files = [str(path) for path in sorted(TEMPLATE.rglob("*")) if path.is_file()]
    assert files
    assert scan(files, Path(BASELINE_FILE)) == []


DUMP_ANSWERS = {**ANSWERS, "kind": "dump_db", "pipeline": "dump_sigma", "tables": "chamado, pessoa,origem"}
DUMP_TABLES = ["chamado", "pessoa", "origem"]


def test_default_answers_render_the_api_kind(pipelines_dir: Path) -> None:
    created = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(pipelines_dir)))
    assert created.name == "rj_smtr__minha_captura"
    assert (created / "tasks.py").is_file() and not (created / "queries").exists()
    assert not (created / "_dump_db").exists()
    config: dict[str, Any] = yaml.safe_load((created / "prefect.yaml").read_text())
    assert {deployment["work_pool"]["name"] for deployment in config["deployments"]} == {"default-pool"}


def test_dump_db_kind_has_a_query_stub_per_table_and_no_tasks(pipelines_dir: Path) -> None:
    created = render(pipelines_dir, **DUMP_ANSWERS)

    assert sorted(path.relative_to(created).as_posix() for path in created.rglob("*") if path.is_file()) == [
        *EVERY_KIND_FILES,
        *(f"queries/{table}.sql" for table in sorted(DUMP_TABLES)),
    ]
    assert (created / "BUILD").read_text() == 'prefect_pipeline(resource_globs=["queries/*.sql"])\n'
    assert (created / "Dockerfile").read_text() == render(pipelines_dir).joinpath(
        "Dockerfile"
    ).read_text().replace("rj_smtr__gps_sppo", created.name)
    stub = (created / "queries" / "pessoa.sql").read_text()
    assert stub.endswith("SELECT id, nome, valor, atualizado_em FROM pessoa\n")
    flow = (created / "flow.py").read_text()
    assert "return dump_tables(PACKAGE, locals(), sample_database=partial(sample_database, PACKAGE))" in flow
    assert 'PACKAGE: Final = "pipelines.rj_smtr__dump_sigma"' in flow


def test_dump_db_prefect_yaml_has_one_schedule_per_table(pipelines_dir: Path) -> None:
    created = render(pipelines_dir, **DUMP_ANSWERS)
    for environment, deployment in deployments_by_environment(created).items():
        assert deployment["parameters"] == {"dataset_id": "brutos_smtr", "db_credentials": "DB_DUMP_SIGMA"}
        assert deployment["schedules"] == [
            {
                "cron": "*/5 * * * *",
                "timezone": "America/Sao_Paulo",
                "active": environment == "prod",
                "slug": table,
                "parameters": {
                    "table_id": table,
                    "dump_mode": "incremental",
                    "partition_column": "atualizado_em",
                },
            }
            for table in DUMP_TABLES
        ]
        assert deployment["work_pool"]["job_variables"]["secretName"] == SECRET_NAMES[environment]


def test_dump_db_prefect_yaml_passes_the_validator(pipelines_dir: Path) -> None:
    from pipeline_platform.pools import load_pool_templates
    from pipeline_platform.spec import validate_pipeline

    created = render(pipelines_dir, **DUMP_ANSWERS)
    assert validate_pipeline(created, load_pool_templates(REPO_ROOT)) == []


def test_dump_db_defaults(pipelines_dir: Path) -> None:
    created = Path(
        cookiecutter(
            str(TEMPLATE), no_input=True, extra_context={"kind": "dump_db"}, output_dir=str(pipelines_dir)
        )
    )
    assert created.name == "rj_smtr__meu_dump"
    assert sorted(path.name for path in (created / "queries").iterdir()) == ["tabela_a.sql", "tabela_b.sql"]
    config: dict[str, Any] = yaml.safe_load((created / "prefect.yaml").read_text())
    assert config["deployments"][0]["description"] == "Dump de tabelas de um banco de dados para o data lake."


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (" , ", "nomeie ao menos uma tabela"),
        ("chamado,Pessoa", "tabela 'Pessoa': use letras minúsculas"),
        ("chamado,tb-x", "tabela 'tb-x'"),
        ("chamado,pessoa,chamado", "tabelas repetidas: chamado"),
    ],
)
def test_bad_tables_write_nothing_and_say_why(
    pipelines_dir: Path, capfd: pytest.CaptureFixture[str], tables: str, message: str
) -> None:
    with pytest.raises(FailedHookException):
        render(pipelines_dir, **{**DUMP_ANSWERS, "tables": tables})

    assert list(pipelines_dir.iterdir()) == []
    assert message in capfd.readouterr().err


def test_tables_are_not_checked_for_the_api_kind(pipelines_dir: Path) -> None:
    assert (render(pipelines_dir, tables="") / "tasks.py").is_file()
