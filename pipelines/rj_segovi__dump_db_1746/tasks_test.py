from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from pipelines.common.db import read_query
from pipelines.common.db_testing import execute
from pipelines.common.dump import DumpError
from pipelines.common.lake import Lake, latest_partition_day
from pipelines.rj_segovi__dump_db_1746.sample_db import insert_raw_start_dates
from pipelines.rj_segovi__dump_db_1746.tasks import PACKAGE, dump_table_to_lake
from pipelines.rj_segovi__dump_db_1746.testing import lake_files, read_dump, seed_chamados

START = datetime(2024, 1, 1)


def test_full_then_incremental_dump_without_duplicates(sqlite_url: str, lake_uri: str) -> None:
    seed_chamados(sqlite_url, 1_200, START, 20, 1)
    first = dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, batch_size=25)
    assert (first.since, first.rows_read, first.rows_written, first.rows_rejected) == (None, 1_200, 1_200, 0)
    assert len(first.days_written) == 20
    watermark = latest_partition_day(Lake.from_uri(lake_uri), "brutos_1746/chamado")
    assert watermark == date(2024, 1, 20)
    files_after_first = lake_files(lake_uri)
    day_dir = "brutos_1746/chamado/ano_particao=2024/mes_particao=01/data_particao=2024-01-01"
    assert f"{day_dir}/chamado_2024-01-01_part00000.parquet" in files_after_first

    rerun = dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, batch_size=25)
    assert rerun.since == watermark
    assert rerun.days_written == (date(2024, 1, 20),)
    assert rerun.rows_read == rerun.rows_written < 200
    assert lake_files(lake_uri) == files_after_first

    seed_chamados(sqlite_url, 300, datetime(2024, 1, 20), 5, 10_000)
    incremental = dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, batch_size=25)
    assert incremental.days_written[0] == date(2024, 1, 20)
    assert incremental.days_written[-1] == date(2024, 1, 24)
    ids = read_dump(lake_uri)["id_chamado"].to_pylist()
    assert len(ids) == len(set(ids)) == 1_500


def test_broken_start_dates_are_counted_and_skipped(sqlite_url: str, lake_uri: str) -> None:
    seed_chamados(sqlite_url, 100, START, 3, 1)
    engine = sa.create_engine(sqlite_url)
    insert_raw_start_dates(engine, [(900, "2024-01-02 25:61:00"), (901, "desconhecido")])
    engine.dispose()
    result = dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, batch_size=1_000)
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (102, 100, 2)
    assert result.rejected_ids == (900, 901)
    assert result.invalid_values == 0


def test_unreadable_end_dates_become_null_and_are_counted(sqlite_url: str, lake_uri: str) -> None:
    seed_chamados(sqlite_url, 50, START, 2, 1)
    execute(sqlite_url, "UPDATE chamado SET data_fim = 'garbage' WHERE id_chamado IN (3, 4)")
    result = dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, batch_size=1_000)
    assert (result.rows_written, result.invalid_values) == (50, 2)
    table = read_dump(lake_uri)
    ends = dict(zip(table["id_chamado"].to_pylist(), table["data_fim"].to_pylist(), strict=True))
    assert ends[3] is None and ends[4] is None


def test_a_failing_batch_keeps_the_days_written_before(sqlite_url: str, lake_uri: str) -> None:
    seed_chamados(sqlite_url, 200, START, 4, 1)
    dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, batch_size=50)
    before = lake_files(lake_uri)
    newest = "SELECT id_chamado FROM chamado ORDER BY data_inicio DESC LIMIT 1"
    execute(sqlite_url, f"UPDATE chamado SET latitude = 'norte' WHERE id_chamado = ({newest})")
    with pytest.raises(DumpError, match=r"dumping chamado from sqlite:///.* column 'latitude'"):
        dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, batch_size=50)
    assert lake_files(lake_uri) == before


def test_queries_are_read_from_sql_files_beside_the_flow() -> None:
    assert "ORDER BY data_inicio, id_chamado" in read_query(PACKAGE, "chamado")


def test_unknown_table_is_refused(sqlite_url: str, lake_uri: str) -> None:
    with pytest.raises(DumpError, match=r"unknown table 'chamados'.*its queries: chamado"):
        dump_table_to_lake(sqlite_url, "chamados", lake_uri=lake_uri)


def test_without_a_database_the_real_lake_is_never_fed_the_sample() -> None:
    with pytest.raises(DumpError, match="no database to dump 'chamado' from"):
        dump_table_to_lake(None, "chamado", lake_uri="gs://bucket-that-is-never-reached/prefix")
