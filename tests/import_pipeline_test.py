"""The importer (tools/pipeline_import, run as tools/import_pipeline.py) on pipelines of the
old layout, in a small repo copy.

The imported prefect.yaml files must pass the repository's validator; `./pants lint check test` on imported
pipelines is in import_pipeline_e2e_test.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from pipeline_import import cli
from pipeline_platform.pools import load_pool_templates
from pipeline_platform.spec import validate_pipeline
from pipelines.common.naming import SECRET_NAMES
from repo_testing import import_fixtures
from repo_testing.workspace import REPO_ROOT

# What the importer reads and writes in a repository.
REPO_PARTS = (
    "templates",
    "infra/work-pools",
    "3rdparty/python/requirements.txt",
    "3rdparty/python/constraints.txt",
    "3rdparty/python/BUILD",
    "pyproject.toml",
    "pipelines/__init__.py",
    "pipelines/common",
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for part in REPO_PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (root / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / part)
    return root


@pytest.fixture
def old(tmp_path: Path) -> Path:
    directory = tmp_path / "old" / "pipelines"
    directory.mkdir(parents=True)
    return directory


class Run:
    def __init__(self, repo: Path, code: int, output: str) -> None:
        self.repo = repo
        self.code = code
        self.output = output

    def pipeline(self, name: str) -> Path:
        return self.repo / "pipelines" / name

    def config(self, name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = yaml.safe_load((self.pipeline(name) / "prefect.yaml").read_text())
        return loaded

    def deployments(self, name: str) -> dict[str, dict[str, Any]]:
        return {item["name"]: item for item in self.config(name)["deployments"]}


def report_rows(output: str) -> list[tuple[str, str, str]]:
    """The rows of the report's tables: (mark, where, what), cells folded over several lines joined."""
    rows: list[list[str]] = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) != 3:
            continue
        if cells[0] or not rows:
            rows.append(cells)
        else:
            rows[-1] = [rows[-1][0], rows[-1][1] + cells[1], f"{rows[-1][2]} {cells[2]}".strip()]
    return [(mark, where, what) for mark, where, what in rows]


def has_row(output: str, where: str, start: str, mark: str = "") -> bool:
    return any(
        row_where == where and what.startswith(start) and (not mark or row_mark == mark)
        for row_mark, row_where, what in report_rows(output)
    )


def run(repo: Path, *args: str) -> Run:
    console = Console(record=True, width=250, color_system=None)
    code = cli.main([*args], root=repo, console=console)
    return Run(repo, code, console.export_text())


def assert_valid(run_: Run, name: str) -> None:
    assert validate_pipeline(run_.pipeline(name), load_pool_templates(run_.repo)) == []


@pytest.fixture
def dump(old: Path, repo: Path) -> Iterator[Run]:
    source = import_fixtures.dump_with_many_tables(old)
    yield run(repo, "--no-refresh", str(source))


def test_a_dump_becomes_configuration_of_the_generic_dump(dump: Run) -> None:
    name = "rj_smdu__dump_db_licencas"
    assert dump.code == 0, dump.output
    assert_valid(dump, name)
    directory = dump.pipeline(name)
    assert sorted(
        path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file()
    ) == [
        "BUILD",
        "Dockerfile",
        "__init__.py",
        "flow.py",
        "flow_test.py",
        "image_test.py",
        "prefect.yaml",
        *(f"queries/{table}.sql" for table in import_fixtures.DUMP_TABLES),
    ]
    assert (directory / "BUILD").read_text() == 'prefect_pipeline(resource_globs=["queries/*.sql"])\n'
    assert "return dump_tables(PACKAGE, locals()" in (directory / "flow.py").read_text()
    sql = (directory / "queries" / "processo.sql").read_text()
    assert sql.startswith("SELECT p.id_processo") and "NOT LIKE '%teste%'" in sql

    deployments = dump.deployments(name)
    assert sorted(deployments) == ["rj-smdu--dump-db-licencas--prod", "rj-smdu--dump-db-licencas--staging"]
    prod = deployments["rj-smdu--dump-db-licencas--prod"]
    assert prod["entrypoint"] == f"pipelines/{name}/flow.py:{name}"
    assert prod["parameters"] == {
        "db_type": "sql_server",
        "db_host": "10.70.0.12",
        "db_database": "LICENCAS",
        "dataset_id": "brutos_licencas",
        "batch_size": 50000,
        "db_port": 1433,
        "db_credentials": "DB_LICENCAS",
    }
    schedules = {schedule["slug"]: schedule for schedule in prod["schedules"]}
    assert schedules["licenca"]["parameters"] == {
        "table_id": "licenca",
        "partition_column": "dt_emissao",
        "dump_mode": "incremental",
        "lower_bound_date": "2021-01-01",
    }
    assert schedules["requerente"]["parameters"] == {"table_id": "requerente", "dump_mode": "overwrite"}
    assert (
        schedules["licenca"]["interval"] == 86400 and schedules["licenca"]["timezone"] == "America/Sao_Paulo"
    )
    assert prod["work_pool"] == {
        "name": "default-pool",
        "job_variables": {
            "image": "rj-smdu--dump-db-licencas:{{ $IMAGE_TAG }}",
            "secretName": "prefect-jobs-secrets",
            "image_pull_policy": "Always",
        },
    }
    config = dump.config(name)
    assert (config["build"], config["push"]) == (None, None)
    assert "version" not in prod and "command" not in prod["work_pool"]["job_variables"]


def test_the_staging_deployment_gets_the_staging_secret_and_the_report_says_so(dump: Run) -> None:
    staging = dump.deployments("rj_smdu__dump_db_licencas")["rj-smdu--dump-db-licencas--staging"]
    assert staging["work_pool"]["job_variables"]["secretName"] == SECRET_NAMES["staging"]
    assert all(schedule["active"] is False for schedule in staging["schedules"])
    old_yaml = "rj_smdu__dump_db_licencas/prefect.yaml"
    for where, what in (
        (
            f"{old_yaml}:134",
            "secretName 'prefect-jobs-secrets' -> 'prefect-jobs-secrets-staging' (a staging deployment",
        ),
        (f"{old_yaml}:44", "execute_query of 'licenca' -> queries/licenca.sql"),
        (
            f"{old_yaml}:27",
            "deployment 'rj-smdu-dump-db-licencas--prod' -> 'rj-smdu--dump-db-licencas--prod'",
        ),
        (f"{old_yaml}:31", "work pool 'k3s-pool' -> 'default-pool'"),
        (f"{old_yaml}:1", "dump_mode 'append' + partition_columns -> 'incremental'"),
        (f"{old_yaml}:1", "batch_data_type dropped: the dump always writes Parquet"),
        (f"{old_yaml}:1", "infisical_secret_path -> db_credentials (e.g. '/db-licencas' -> 'DB_LICENCAS'"),
        (
            "rj_smdu__dump_db_licencas/pyproject.toml",
            "requirements not imported: the generic dump needs none",
        ),
    ):
        assert has_row(dump.output, where, what, "✓"), (where, what)
    assert "0 item(s) marked ! to do by hand" in dump.output


def test_an_api_capture_keeps_its_code_and_brings_its_requirements(old: Path, repo: Path) -> None:
    name = "rj_cor__api_boletim"
    result = run(repo, "--no-refresh", str(import_fixtures.api_with_extra_requirements(old)))

    assert result.code == 0, result.output
    assert_valid(result, name)
    directory = result.pipeline(name)
    assert (directory / "utils" / "__init__.py").is_file()
    assert (directory / "utils" / "BUILD").read_text() == "python_sources()\n"
    assert (directory / "utils" / "stations.json").is_file()
    assert (directory / "BUILD").read_text() == 'prefect_pipeline(resource_globs=["utils/*.json"])\n'
    flow = (directory / "flow.py").read_text()
    assert "@flow(log_prints=True)" in flow  # formatted with black
    assert flow.index("from prefect import flow") < flow.index(
        f"from pipelines.{name}.tasks"
    )  # sorted by ruff
    requirements = (repo / "3rdparty/python/requirements.txt").read_text()
    assert requirements.endswith(
        f"# Imported pipelines (tools/import_pipeline.py)\n{import_fixtures.EXTRA_REQUIREMENT}\n"
    )
    assert '    "humanize",\n]' in (repo / "3rdparty/python/BUILD").read_text()
    prod = result.deployments(name)["rj-cor--api-boletim--prod"]
    assert prod["parameters"] == {"url": "https://boletim.example/api/v1/boletins"}
    for expected in (
        "humanize>=4: added to 3rdparty/python/requirements.txt",
        "httpx>=0.27: already a requirement here",
        "version conflict: orjson>=99 asked, orjson==",
        "prefect-rj-iplanrio: the old workspace's root",
        "lines beyond the usual FROM/COPY/uv sync",
        "Requisitos acrescentados sem atualizar os pins (--no-refresh)",
    ):
        assert expected in result.output
    assert "import humanize" not in result.output  # provided by the requirement it adds


def test_several_deployments_per_environment_are_merged_and_what_is_left_is_reported(
    old: Path, repo: Path
) -> None:
    name = "rj_smas__disparo_lembretes"
    result = run(repo, "--no-refresh", str(import_fixtures.several_deployments_per_environment(old)))

    assert result.code == 0, result.output
    assert_valid(result, name)
    prod = result.deployments(name)["rj-smas--disparo-lembretes--prod"]
    assert prod["schedules"] == [
        {"cron": "0 9 * * 1-5", "timezone": "America/Sao_Paulo", "parameters": {"campanha": "vacina"}},
        {
            "cron": "0 18 * * *",
            "timezone": "America/Sao_Paulo",
            "parameters": {"campanha": "cadunico", "canal": "sms"},
        },
    ]
    assert "parameters" not in prod
    old_yaml = f"{name}/prefect.yaml"
    new_flow = f"pipelines/{name}/flow.py"
    for mark, where, what in (
        (
            "✓",
            f"{old_yaml}:27",
            "deployment 'rj_smas__disparo_lembretes__prod' -> 'rj-smas--disparo-lembretes--prod'",
        ),
        ("✓", f"{old_yaml}:40", "`schedule:` (singular, not accepted by Prefect 3) -> `schedules:`"),
        (
            "✓",
            f"{old_yaml}:44",
            "deployments[1] merged into rj-smas--disparo-lembretes--prod (1 schedule(s))",
        ),
        ("✓", f"{old_yaml}:56", "timezone: America/Sao_Paulo (it had none)"),
        ("✓", f"{old_yaml}:1", "flow_run_name dropped from 1 schedule(s): Prefect 3 schedules have no run"),
        (
            "!",
            f"{old_yaml}:57",
            "schedule key 'deployment_name' dropped: the deployment's own name is enough",
        ),
        (
            "!",
            f"{old_yaml}:48",
            "work pool 'gpu-pool' is not one of default-pool, datario-pool: set to default-pool",
        ),
        ("✓", f"{new_flow}:1", "iplanrio.pipelines_utils.env -> pipelines.common.iplanrio.env"),
        ("!", f"{new_flow}:2", "import src.messaging: shared code of the old repository (src/)"),
        ("!", f"{new_flow}:5", "import pipelines.rj_smas__disparo_cadunico.tasks: another pipeline"),
        ("✓", f"{name}/pyproject.toml:4", "iplanrio: the old helper library; its API is pipelines/common"),
    ):
        assert has_row(result.output, where, what, mark), (where, what)


def test_an_existing_pipeline_is_replaced_only_with_force(dump: Run, old: Path) -> None:
    name = "rj_smdu__dump_db_licencas"
    (dump.pipeline(name) / "queries" / "licenca.sql").write_text("SELECT 'edited by hand'\n")
    again = run(dump.repo, "--no-refresh", str(old / name))
    assert again.code == 1
    assert "already exists: pass --force to replace it" in again.output
    assert (dump.pipeline(name) / "queries" / "licenca.sql").read_text() == "SELECT 'edited by hand'\n"

    forced = run(dump.repo, "--no-refresh", "--force", str(old / name))
    assert forced.code == 0, forced.output
    assert (dump.pipeline(name) / "queries" / "licenca.sql").read_text().startswith("SELECT l.id_licenca")


def test_pool_map_and_unusable_inputs(old: Path, repo: Path) -> None:
    good = import_fixtures.several_deployments_per_environment(old)
    broken = old / "rj_sec__yaml_quebrado"
    broken.mkdir()
    (broken / "flow.py").write_text("")
    (broken / "prefect.yaml").write_text("deployments: [\n")
    no_flow = old / "rj_sec__sem_flow"
    no_flow.mkdir()
    (no_flow / "prefect.yaml").write_text("deployments: []\n")
    bad_name = old / "Pipeline Antiga"
    bad_name.mkdir()
    (bad_name / "flow.py").write_text("")
    (bad_name / "prefect.yaml").write_text("deployments: []\n")

    result = run(
        repo, "--no-refresh", "--pool-map", "gpu-pool=datario-pool", str(broken), str(good), str(no_flow),
        str(bad_name), str(old / "nao_existe"),
    )  # fmt: skip
    assert result.code == 1
    text = " ".join(result.output.split())
    assert "rj_sec__yaml_quebrado: not imported: prefect.yaml is not valid YAML" in text
    assert "rj_sec__sem_flow: not imported: flow.py is missing" in text
    assert "'pipeline antiga' is not a valid pipeline directory name" in text
    assert "nao_existe: not imported:" in text and "is not a directory" in text
    assert "1 of 5 pipeline(s) imported" in text
    assert "work pool 'gpu-pool' -> 'datario-pool'" in text
    assert sorted(path.name for path in (repo / "pipelines").iterdir()) == [
        "__init__.py",
        "common",
        "rj_smas__disparo_lembretes",
    ]


def test_bad_pool_map_is_refused_before_anything_is_written(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--pool-map", "k3s-pool=gpu", "x"], root=repo)
    assert caught.value.code == 2
    assert "use ANTIGO=NOVO, com NOVO um de default-pool, datario-pool" in capsys.readouterr().err


def test_odd_shapes_are_reported_not_fatal(old: Path, repo: Path) -> None:
    odd = old / "rj_sec__formas_estranhas"
    odd.mkdir()
    (odd / "flow.py").write_text(
        "from prefect import flow\n\n\n@flow\n"
        "def rj_sec__formas_estranhas(x: int = 1) -> int:\n    return x\n"
    )
    (odd / "latin1.py").write_bytes("# coment\xe1rio\n".encode("latin-1"))
    (odd / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = "pandas"\n')
    (odd / "prefect.yaml").write_text(
        "deployments:\n"
        "  - name: rj-sec--formas-estranhas--prod\n"
        "    parameters: [x, 2]\n"
        "    schedules:\n"
        "      - not a schedule\n"
        "      - cron: '0 1 * * *'\n"
        "        parameters: 7\n"
        "    work_pool: {name: k3s-pool, job_variables: [image]}\n"
        "  - just text\n"
        "  - name: rj-sec--formas-estranhas--dev\n"
    )
    result = run(repo, "--no-refresh", str(odd))

    assert result.code == 0, result.output
    assert_valid(result, "rj_sec__formas_estranhas")
    where = "rj_sec__formas_estranhas/prefect.yaml"
    for line, what in (
        (3, "not a mapping (list): ignored"),
        (5, "a schedule that is not a mapping: dropped"),
        (7, "not a mapping (int): ignored"),
        (8, "not a mapping (list): ignored"),
        (9, "a deployment that is not a mapping: not imported"),
        (10, "deployment 'rj-sec--formas-estranhas--dev': its name does not end in --prod or --staging"),
    ):
        assert has_row(result.output, f"{where}:{line}", what, "!"), (line, what)
    assert has_row(
        result.output, "rj_sec__formas_estranhas/pyproject.toml", "[project].dependencies is not a list"
    )
    assert has_row(result.output, "pipelines/rj_sec__formas_estranhas/latin1.py", "not UTF-8 text")
    assert has_row(result.output, f"{where}:1", "no staging deployment in the old prefect.yaml")


def test_a_switched_off_pipeline_is_imported_with_its_code_and_no_deployment(old: Path, repo: Path) -> None:
    source = import_fixtures.switched_off(old)
    name = source.name

    result = run(repo, "--no-refresh", str(source))

    assert result.code == 0, result.output
    assert result.config(name)["deployments"] == []
    assert (result.pipeline(name) / "flow.py").is_file()
    lines = (source / "prefect.yaml").read_text().splitlines()
    switch = lines.index("deployments: []") + 1
    commented = [number for number, line in enumerate(lines, start=1) if line.startswith("#  - name:")]
    assert len(commented) == 1
    assert has_row(result.output, f"{name}/prefect.yaml:{switch}", "switched off (`deployments: []`)")
    assert f"commented out (line {commented[0]})" in " ".join(result.output.split())
    assert_valid(result, name)


def test_a_template_we_provide_is_rewritten_and_its_calls_pass(old: Path, repo: Path) -> None:
    source = import_fixtures.arcgis_layer(old)
    name = source.name

    result = run(repo, "--no-refresh", str(source))

    assert result.code == 0, result.output
    flow = (result.pipeline(name) / "flow.py").read_text()
    assert "from pipelines.common.iplanrio.dump_arcgis import" in flow
    assert "iplanrio.pipelines_templates" not in flow
    where = f"pipelines/{name}/flow.py:1"
    assert has_row(result.output, where, "iplanrio.pipelines_templates.dump_arcgis.tasks ->", mark="✓")
    assert [row for row in report_rows(result.output) if row[0] == "!" and "flow.py" in row[1]] == []
    assert_valid(result, name)
