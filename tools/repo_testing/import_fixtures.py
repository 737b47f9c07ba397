"""Pipelines in the city's old repository layout, written by hand for the importer's tests.

Each function writes one old pipeline directory (flow.py, prefect.yaml, pyproject.toml, Dockerfile, ...) under
``root`` and returns it. The shapes are the ones the city's repository holds: a dump with many tables and
inline SQL, an API capture with extra requirements, several deployments per environment, a staging
deployment holding the prod secret, a singular ``schedule:``.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

OLD_BUILD = """\
build:
  - prefect.deployments.steps.run_shell_script:
      id: get-commit-hash
      script: git rev-parse --short HEAD
      stream_output: false
  - prefect_docker.deployments.steps.build_docker_image:
      id: build-image
      requires: prefect-docker>=0.6.5
      image_name: registry.example/prefect_rj_iplanrio/deployments
      tag: "{name}-{{{{ get-commit-hash.stdout }}}}"
      dockerfile: pipelines/{name}/Dockerfile

push:
  - prefect_docker.deployments.steps.push_docker_image:
      requires: prefect-docker>=0.6.5
      image_name: "{{{{ build-image.image_name }}}}"
      tag: "{{{{ build-image.tag }}}}"

pull:
  - prefect.deployments.steps.set_working_directory:
      directory: /opt/prefect/prefect_rj_iplanrio
"""
OLD_DOCKERFILE = """\
FROM registry.example/prefect_rj_iplanrio:latest

WORKDIR /opt/prefect/prefect_rj_iplanrio
COPY ./pyproject.toml ./uv.lock /opt/prefect/prefect_rj_iplanrio/
COPY ./src ./src/
COPY ./pipelines/{name} ./pipelines/{name}/
{extra}RUN uv sync --package {name}
"""


def _write(directory: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(text).lstrip("\n"))
    return directory


def _job_variables(name: str, secret: str, pool: str = "k3s-pool") -> str:
    return f"""\
    work_pool:
      name: {pool}
      work_queue_name: default
      job_variables:
        image: "{{{{ build-image.image_name }}}}:{{{{ build-image.tag }}}}"
        command: uv run --package {name} -- prefect flow-run execute
        secretName: {secret}
        image_pull_policy: Always
"""


def _prefect_yaml(name: str, *deployments: str) -> str:
    return f"name: {name}\nprefect-version: 3.4.3\n\n{OLD_BUILD.format(name=name)}\ndeployments:\n" + "".join(
        deployments
    )


def _deployment(
    name: str, deployment: str, secret: str, after: str = "", *, pool: str = "k3s-pool", before: str = ""
) -> str:
    """One old deployment: ``before`` goes above its work pool, ``after`` (e.g. schedules) below it."""
    return f"""\
  - name: {deployment}
    version: "{{{{ build-image.tag }}}}"
    entrypoint: pipelines/{name}/flow.py:{name}
{before}{_job_variables(name, secret, pool)}{after}"""


DUMP_TABLES = ("licenca", "processo", "requerente", "tipo_licenca")


def dump_with_many_tables(root: Path, name: str = "rj_smdu__dump_db_licencas") -> Path:
    """A SQL Server dump: four tables, their SQL inline, two of them incremental by a text date column."""
    connection = """\
          db_type: sql_server
          db_database: LICENCAS
          db_host: 10.70.0.12
          db_port: "1433"
          dataset_id: brutos_licencas
          infisical_secret_path: /db-licencas
          biglake_table: true
          batch_size: 50000
          batch_data_type: csv
"""
    tables = {
        "licenca": (
            "dt_emissao",
            "append",
            """\
          execute_query: >-
            SELECT l.id_licenca, l.nu_licenca, CONVERT(VARCHAR, l.dt_emissao, 20) AS dt_emissao,
            l.id_processo_fk, l.ds_situacao FROM tb_licenca AS l WHERE l.ds_situacao <> 'RASCUNHO'
""",
        ),
        "processo": (
            "dt_abertura",
            "append",
            """\
          execute_query: |
            SELECT p.id_processo, p.nu_processo, CONVERT(VARCHAR, p.dt_abertura, 20) AS dt_abertura,
                   p.id_requerente_fk, p.ds_assunto
            FROM tb_processo p
            WHERE p.ds_assunto NOT LIKE '%teste%'
""",
        ),
        "requerente": (
            None,
            "overwrite",
            "          execute_query: SELECT id_requerente, no_requerente FROM tb_requerente\n",
        ),
        "tipo_licenca": (
            None,
            "overwrite",
            "          execute_query: SELECT id_tipo, no_tipo FROM tb_tipo_licenca\n",
        ),
    }

    def schedules(active: str) -> str:
        text = "    schedules:\n"
        for minute, (table, (column, mode, sql)) in enumerate(tables.items()):
            text += f"""\
      - interval: 86400
        anchor_date: "2025-07-15T0{minute}:10:00"
        timezone: America/Sao_Paulo
        slug: {table}
        active: {active}
        parameters:
{connection}          table_id: {table}
          dump_mode: {mode}
"""
            if column:
                text += f"""\
          partition_columns: {column}
          break_query_frequency: month
          break_query_start: "2021-01-01"
          break_query_end: current_month
"""
            text += sql
        return text

    old_name = name.replace("_", "-").replace("--", "-")
    prefect_yaml = _prefect_yaml(
        name,
        _deployment(name, f"{old_name}--prod", "prefect-jobs-secrets", schedules("true")),
        # The staging deployment mounts the prod secret: the mistake the README warns about.
        _deployment(name, f"{old_name}--staging", "prefect-jobs-secrets", schedules("false")),
    )
    return _write(
        root / name,
        {
            "prefect.yaml": prefect_yaml,
            "Dockerfile": OLD_DOCKERFILE.format(name=name, extra=""),
            "__init__.py": "",
            "flow.py": f'''
                """Dump of the licences database to BigQuery."""

                from typing import Optional

                from iplanrio.pipelines_templates.dump_db.tasks import dump_upload_batch_task
                from prefect import flow


                @flow(log_prints=True)
                def {name}(
                    db_database: str = "db_database",
                    db_host: str = "db_host",
                    db_port: str = "db_port",
                    db_type: str = "db_type",
                    execute_query: str = "execute_query",
                    dataset_id: str = "dataset_id",
                    table_id: str = "table_id",
                    infisical_secret_path: str = "infisical_secret_path",
                    dump_mode: str = "overwrite",
                    partition_columns: Optional[str] = None,
                    batch_size: int = 50000,
                ):
                    dump_upload_batch_task(query=execute_query, table_id=table_id)
            ''',
            "tasks.py": "# helpers of the old dump\n",
            "utils.py": "# more helpers of the old dump\n",
            "pyproject.toml": f"""
                [project]
                name = "{name}"
                version = "0.1.0"
                dependencies = ["iplanrio>=0.1", "pandas>=2", "prefect-rj-iplanrio"]

                [tool.uv.sources]
                prefect-rj-iplanrio = {{ workspace = true }}
            """,
        },
    )


# A distribution this repository does not pin yet (pure Python, typed), for the requirements path.
EXTRA_REQUIREMENT = "humanize>=4"


def api_with_extra_requirements(root: Path, name: str = "rj_cor__api_boletim") -> Path:
    """An API capture: typed code in a package without __init__.py files, with requirements of its own.

    Its imports are all satisfiable here once its requirements are added, so the imported pipeline must pass
    `./pants lint check test`. The code is written unformatted on purpose (the importer formats it).
    """
    return _write(
        root / name,
        {
            "prefect.yaml": _prefect_yaml(
                name,
                _deployment(
                    name,
                    "rj-cor--api-boletim--prod",
                    "prefect-jobs-secrets",
                    """\
    schedules:
      - cron: "*/15 * * * *"
        timezone: America/Sao_Paulo
        parameters:
          url: https://boletim.example/api/v1/boletins
""",
                ),
                _deployment(name, "rj-cor--api-boletim--staging", "prefect-jobs-secrets-staging"),
            ),
            "Dockerfile": OLD_DOCKERFILE.format(
                name=name, extra="RUN apt-get update && apt-get install -y --no-install-recommends curl\n"
            ),
            "flow.py": f"""
                from prefect import flow
                from pipelines.{name}.tasks import fetch_bulletins
                from pipelines.{name}.utils.text import summary


                @flow(log_prints = True)
                def {name}(url: str = 'https://boletim.example/api/v1/boletins', timeout_seconds: float = 30.0
                ) -> str:
                    bulletins = fetch_bulletins(url, timeout_seconds)
                    return summary(bulletins)
            """,
            "tasks.py": """
                from typing import Any
                import httpx
                from prefect import task


                @task(retries = 2)
                def fetch_bulletins(url: str, timeout_seconds: float) -> list[dict[str, Any]]:
                    response = httpx.get(url, timeout = timeout_seconds)
                    response.raise_for_status()
                    payload: list[dict[str, Any]] = response.json()
                    return payload
            """,
            "utils/text.py": """
                from typing import Any
                import humanize


                def summary(bulletins: list[dict[str, Any]]) -> str:
                    size = sum(len(str(item)) for item in bulletins)
                    return f'{len(bulletins)} bulletin(s), {humanize.naturalsize(size)}'
            """,
            "utils/stations.json": '{"stations": ["A652", "A621"]}\n',
            "pyproject.toml": f"""
                [project]
                name = "{name}"
                version = "0.1.0"
                dependencies = [
                    "prefect>=3.0.0",
                    "httpx>=0.27",
                    "{EXTRA_REQUIREMENT}",
                    "orjson>=99",
                    "prefect-rj-iplanrio",
                ]

                [tool.uv.sources]
                prefect-rj-iplanrio = {{ workspace = true }}
            """,
        },
    )


def several_deployments_per_environment(root: Path, name: str = "rj_smas__disparo_lembretes") -> Path:
    """Two prod deployments of one flow, names with `_`, a singular `schedule:`, keys Prefect 3 rejects,
    an unknown pool, and imports nothing here provides (the helper library, src/, another pipeline)."""
    return _write(
        root / name,
        {
            "prefect.yaml": _prefect_yaml(
                name,
                _deployment(
                    name,
                    "rj_smas__disparo_lembretes__prod",
                    "prefect-jobs-secrets",
                    """\
    schedule:
      cron: "0 9 * * 1-5"
      timezone: America/Sao_Paulo
      flow_run_name: disparo-vacina
""",
                    before="    parameters:\n      campanha: vacina\n",
                ),
                _deployment(
                    name,
                    "rj-smas--disparo-lembretes-sms--prod",
                    "prefect-jobs-secrets",
                    """\
    schedules:
      - cron: "0 18 * * *"
        deployment_name: lembrete-noite
        parameters:
          campanha: cadunico
          canal: sms
""",
                    pool="gpu-pool",
                ),
                _deployment(name, "rj-smas--disparo-lembretes--staging", "prefect-jobs-secrets-staging"),
            ),
            "Dockerfile": OLD_DOCKERFILE.format(name=name, extra=""),
            "flow.py": f"""
                from iplanrio.pipelines_utils.env import inject_bd_credentials_task
                from prefect import flow

                from pipelines.rj_smas__disparo_cadunico.tasks import send_messages
                from src.messaging import render_template


                @flow(log_prints=True)
                def {name}(campanha: str = "vacina", canal: str = "whatsapp") -> None:
                    inject_bd_credentials_task(environment="prod")
                    send_messages(render_template(campanha), canal)
            """,
            "pyproject.toml": f"""
                [project]
                name = "{name}"
                version = "0.1.0"
                dependencies = ["iplanrio>=0.1"]
            """,
        },
    )


def switched_off(root: Path, name: str = "rj_iplanrio__api_desligada") -> Path:
    """A pipeline switched off the old way: `deployments: []`, the old deployments commented out below."""
    commented = "".join(
        f"#{line}\n" if line else "#\n"
        for line in _deployment(name, "rj-iplanrio--api-desligada--prod", "prefect-jobs-secrets")
        .rstrip("\n")
        .splitlines()
    )
    return _write(
        root / name,
        {
            "prefect.yaml": _prefect_yaml(name).replace("deployments:\n", "deployments: []\n") + commented,
            "Dockerfile": OLD_DOCKERFILE.format(name=name, extra=""),
            "flow.py": f"""
                from prefect import flow


                @flow(log_prints=True)
                def {name}(dataset: str = "brutos") -> None:
                    print(dataset)
            """,
            "pyproject.toml": f"""
                [project]
                name = "{name}"
                version = "0.1.0"
                dependencies = []
            """,
        },
    )


def arcgis_layer(root: Path, name: str = "rj_iplanrio__camada_arcgis") -> Path:
    """A layer of an ArcGIS server dumped through the helper library's ``dump_arcgis`` template."""
    return _write(
        root / name,
        {
            "prefect.yaml": _prefect_yaml(
                name,
                _deployment(name, "rj-iplanrio--camada-arcgis--prod", "prefect-jobs-secrets"),
                _deployment(name, "rj-iplanrio--camada-arcgis--staging", "prefect-jobs-secrets-staging"),
            ),
            "Dockerfile": OLD_DOCKERFILE.format(name=name, extra=""),
            "flow.py": f"""
                from iplanrio.pipelines_templates.dump_arcgis.tasks import (
                    download_data_from_arcgis_task,
                )
                from iplanrio.pipelines_utils.bd import create_table_and_upload_to_gcs_task
                from prefect import flow


                @flow(log_prints=True)
                def {name}(
                    url: str = "https://arcgis.example/rest/services/Bairros/FeatureServer/0",
                    crs: str = "EPSG:31983",
                ) -> None:
                    path = download_data_from_arcgis_task(url=url, crs=crs, wait_for=[])
                    create_table_and_upload_to_gcs_task(
                        data_path=path, dataset_id="brutos_camadas", table_id="bairros", dump_mode="overwrite"
                    )
            """,
            "pyproject.toml": f"""
                [project]
                name = "{name}"
                version = "0.1.0"
                dependencies = ["iplanrio>=0.1"]
            """,
        },
    )
