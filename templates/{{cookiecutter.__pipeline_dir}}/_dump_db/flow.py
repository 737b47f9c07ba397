"""The dump of the tables in queries/ into the data lake (see README.md).

Pipeline: {{ cookiecutter.__pipeline_dir }}
"""

from __future__ import annotations

from functools import partial
from typing import Final, Literal

from prefect import flow

from pipelines.common.dump import DumpResult, dump_tables
from pipelines.common.dump_sample import sample_database
from pipelines.common.source import run_locally

PACKAGE: Final = "pipelines.{{ cookiecutter.__pipeline_dir }}"


@flow(name="{{ cookiecutter.__pipeline_dir }}")
def {{ cookiecutter.__pipeline_dir }}(
    table_id: str | None = None,
    dataset_id: str = "brutos_{{ cookiecutter.secretaria }}",
    dump_mode: Literal["overwrite", "append", "incremental"] = "overwrite",
    partition_column: str | None = None,
    partition_date_format: str | None = None,
    lower_bound_date: str | None = None,
    query: str | None = None,
    source_table: str | None = None,
    batch_size: int = 50_000,
    database_url: str | None = None,
    db_type: str | None = None,
    db_host: str | None = None,
    db_port: int | None = None,
    db_database: str | None = None,
    db_charset: str | None = None,
    db_credentials: str | None = None,
    column_types: dict[str, str] | None = None,
    lake_uri: str | None = None,
) -> list[DumpResult]:
    """{{ cookiecutter.description | wordwrap(100, wrapstring="\n    ") }}

    Dumps ``table_id`` (every table of queries/ when None) with the generic dump of pipelines/common/dump.py,
    whose docstrings describe each parameter. The database is given by the parameters, or by the job secret's
    ``<DB_CREDENTIALS>__DATABASE_URL``; with neither, only a local run (``python flow.py``, on a local lake)
    reads a generated SQLite sample of the tables.
    """
    return dump_tables(PACKAGE, locals(), sample_database=partial(sample_database, PACKAGE))


if __name__ == "__main__":
    run_locally()
    for result in {{ cookiecutter.__pipeline_dir }}():
        print(f"{result.rows_written} row(s) of {result.table} written to {result.destination}")
