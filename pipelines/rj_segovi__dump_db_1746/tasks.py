"""The 1746 dump: the generic dump (pipelines/common/dump.py) configured for the call centre's tables.

Incremental by the call's start date: each run reads again from the newest day already in the lake and
rewrites it, so reruns add new calls without duplicating old ones. Queries live in ``queries/<table>.sql``.
"""

from __future__ import annotations

from typing import Final

from pipelines.common.dump import DumpParameters, DumpResult, dump_to_lake
from pipelines.rj_segovi__dump_db_1746.sample_db import ensure_sample_database

PACKAGE: Final = __name__.rpartition(".")[0]
DEFAULT_DATASET_ID: Final = "brutos_1746"
PARTITION_COLUMN: Final = "data_inicio"
ID_COLUMN: Final = "id_chamado"
# Column types of each table (fixed here: the local sample is SQLite, whose driver reports no types).
TABLES: Final[dict[str, dict[str, str]]] = {
    "chamado": {
        "id_chamado": "int64",
        "data_inicio": "timestamp",
        "data_fim": "timestamp",
        "bairro": "string",
        "categoria": "string",
        "tipo": "string",
        "subtipo": "string",
        "status": "string",
        "canal": "string",
        "latitude": "float64",
        "longitude": "float64",
    },
}


def dump_parameters(
    table: str,
    *,
    database_url: str | None,
    lake_uri: str | None,
    batch_size: int = 50_000,
    dataset_id: str = DEFAULT_DATASET_ID,
    db_credentials: str | None = None,
) -> DumpParameters:
    return DumpParameters(
        table_id=table,
        dataset_id=dataset_id,
        dump_mode="incremental",
        partition_column=PARTITION_COLUMN,
        id_column=ID_COLUMN,
        column_types=TABLES.get(table),
        batch_size=batch_size,
        database_url=database_url,
        db_credentials=db_credentials,
        lake_uri=lake_uri,
    )


def dump_table_to_lake(
    database_url: str | None,
    table: str,
    *,
    lake_uri: str | None,
    batch_size: int = 50_000,
    dataset_id: str = DEFAULT_DATASET_ID,
    db_credentials: str | None = None,
) -> DumpResult:
    """Dump ``table`` incrementally; without ``database_url``, from the local SQLite sample (local lakes)."""
    parameters = dump_parameters(
        table,
        database_url=database_url,
        lake_uri=lake_uri,
        batch_size=batch_size,
        dataset_id=dataset_id,
        db_credentials=db_credentials,
    )
    return dump_to_lake(parameters, package=PACKAGE, sample_database=ensure_sample_database)
