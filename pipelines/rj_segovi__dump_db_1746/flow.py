"""rj_segovi__dump_db_1746: incremental dump of the 1746 call centre's database into the lake."""

from __future__ import annotations

from prefect import flow

from pipelines.common.dump import DumpResult, dump_table
from pipelines.common.source import run_locally
from pipelines.rj_segovi__dump_db_1746.sample_db import ensure_sample_database
from pipelines.rj_segovi__dump_db_1746.tasks import DEFAULT_DATASET_ID, PACKAGE, dump_parameters


@flow(name="rj_segovi__dump_db_1746")
def rj_segovi__dump_db_1746(
    database_url: str | None = None,
    table: str = "chamado",
    batch_size: int = 50_000,
    lake_uri: str | None = None,
    dataset_id: str = DEFAULT_DATASET_ID,
    db_credentials: str | None = None,
) -> DumpResult:
    """Dump ``table`` into ``<lake>/<dataset_id>/<table>/`` partitioned by the call's start date.

    Incremental: only rows from the newest day already in the lake on are read, and that day is rewritten,
    so a rerun adds new rows without duplicating old ones. With ``db_credentials`` (e.g. ``DB_1746``, as the
    deployments set) the database is the job secret's ``DB_1746__DATABASE_URL`` (credentials included)
    unless ``database_url`` is given, whose credentials then come from ``DB_1746__DB_USERNAME`` /
    ``DB_1746__DB_PASSWORD``.
    With neither, only a local run (``python flow.py``, on a local lake) reads a generated SQLite sample.
    """
    parameters = dump_parameters(
        table,
        database_url=database_url,
        lake_uri=lake_uri,
        batch_size=batch_size,
        dataset_id=dataset_id,
        db_credentials=db_credentials,
    )
    return dump_table(parameters, PACKAGE, ensure_sample_database)


if __name__ == "__main__":
    run_locally()
    result = rj_segovi__dump_db_1746()
    print(
        f"{result.rows_written} row(s) of {result.table} written to {result.destination} "
        f"({len(result.days_written)} day(s), {result.rows_rejected} row(s) rejected)"
    )
