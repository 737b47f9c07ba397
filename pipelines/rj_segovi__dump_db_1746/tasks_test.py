from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from pipelines.common.db import QueryNotFoundError, RowBatch, read_query
from pipelines.common.lake import Lake, latest_partition_day
from pipelines.rj_segovi__dump_db_1746.sample_db import insert_raw_start_dates
from pipelines.rj_segovi__dump_db_1746.tasks import (
    PACKAGE,
    TABLES,
    DailyPartWriter,
    DumpError,
    dump_table_to_lake,
    prepare_batch,
    split_sorted_days,
)
from pipelines.rj_segovi__dump_db_1746.testing import execute, lake_files, read_dump, seed_chamados

SPEC = TABLES["chamado"]
START = datetime(2024, 1, 1)


def _rows(*ids_and_days: tuple[int, int]) -> pa.Table:
    return pa.table({"id": [i for i, _ in ids_and_days], "day": [d for _, d in ids_and_days]})


def _batch(*starts: object) -> RowBatch:
    columns = tuple(SPEC.schema.names)
    rows = [
        (
            index,
            start,
            "2024-01-05 10:00:00" if index != 2 else "garbage",
            "Centro",
            "c",
            "t",
            "s",
            "Aberto",
            "Telefone",
            -22.9,
            -43.2,
        )
        for index, start in enumerate(starts)
    ]
    return RowBatch(columns, rows)


def test_prepare_batch_rejects_rows_without_a_valid_start_date() -> None:
    prepared = prepare_batch(
        _batch("2024-01-02 08:00:00", None, datetime(2024, 1, 3), "2024-02-30 00:00"), SPEC
    )
    assert prepared.table["id_chamado"].to_pylist() == [0, 2]
    assert prepared.rejected_ids == [1, 3]
    assert prepared.invalid_values == 1
    assert prepared.table["data_fim"].to_pylist() == [datetime(2024, 1, 5, 10), None]


def test_split_sorted_days_gives_consecutive_runs() -> None:
    times = [datetime(2024, 1, 1, 1), datetime(2024, 1, 1, 23), datetime(2024, 1, 2), datetime(2024, 1, 4, 5)]
    table = pa.table({"t": pa.array(times, type=pa.timestamp("us")), "v": [1, 2, 3, 4]})
    assert [(day, rows["v"].to_pylist()) for day, rows in split_sorted_days(table, "t")] == [
        (date(2024, 1, 1), [1, 2]),
        (date(2024, 1, 2), [3]),
        (date(2024, 1, 4), [4]),
    ]
    assert list(split_sorted_days(table.slice(0, 0), "t")) == []


def test_writer_cuts_days_into_parts_and_deletes_stale_parts(tmp_path: Path) -> None:
    lake = Lake.from_uri(str(tmp_path))
    writer = DailyPartWriter(lake, "ds/t", "t", rows_per_file=2)
    writer.add(date(2024, 1, 1), _rows((1, 1), (2, 1), (3, 1)))
    writer.add(date(2024, 1, 1), _rows((4, 1), (5, 1)))
    writer.add(date(2024, 1, 2), _rows((6, 2)))
    writer.close()
    day_dir = "ds/t/ano_particao=2024/mes_particao=01/data_particao=2024-01-01"
    assert lake.list_files(day_dir) == [f"{day_dir}/t_2024-01-01_part0000{n}.parquet" for n in range(3)]
    assert writer.files_written == 4 and writer.rows_written == 6

    bigger = DailyPartWriter(lake, "ds/t", "t", rows_per_file=10)
    bigger.add(date(2024, 1, 1), _rows((1, 1), (2, 1), (3, 1), (4, 1), (5, 1)))
    bigger.close()
    assert lake.list_files(day_dir) == [f"{day_dir}/t_2024-01-01_part00000.parquet"]
    assert bigger.stale_files_deleted == 2
    assert sorted(lake.read_table("ds/t")["id"].to_pylist()) == [1, 2, 3, 4, 5, 6]


def test_writer_refuses_rows_out_of_day_order(tmp_path: Path) -> None:
    writer = DailyPartWriter(Lake.from_uri(str(tmp_path)), "ds/t", "t", rows_per_file=10)
    writer.add(date(2024, 1, 2), _rows((1, 2)))
    with pytest.raises(DumpError, match="must order rows"):
        writer.add(date(2024, 1, 1), _rows((2, 1)))


def test_full_then_incremental_dump_without_duplicates(sqlite_url: str, lake_uri: str) -> None:
    seed_chamados(sqlite_url, 1_200, START, 20, 1)
    first = dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, since=None, batch_size=25)
    assert (first.rows_read, first.rows_written, first.rows_rejected) == (1_200, 1_200, 0)
    assert len(first.days_written) == 20
    watermark = latest_partition_day(Lake.from_uri(lake_uri), "brutos_1746/chamado")
    assert watermark == date(2024, 1, 20)
    files_after_first = lake_files(lake_uri)

    rerun = dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, since=watermark, batch_size=25)
    assert rerun.days_written == (date(2024, 1, 20),)
    assert rerun.rows_read == rerun.rows_written < 200
    assert lake_files(lake_uri) == files_after_first

    seed_chamados(sqlite_url, 300, datetime(2024, 1, 20), 5, 10_000)
    incremental = dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, since=watermark, batch_size=25)
    assert incremental.days_written[0] == date(2024, 1, 20)
    assert incremental.days_written[-1] == date(2024, 1, 24)
    ids = read_dump(lake_uri)["id_chamado"].to_pylist()
    assert len(ids) == len(set(ids)) == 1_500


def test_broken_start_dates_are_counted_and_skipped(sqlite_url: str, lake_uri: str) -> None:
    seed_chamados(sqlite_url, 100, START, 3, 1)
    engine = sa.create_engine(sqlite_url)
    insert_raw_start_dates(engine, [(900, "2024-01-02 25:61:00"), (901, "desconhecido")])
    engine.dispose()
    result = dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, since=None, batch_size=1_000)
    assert (result.rows_read, result.rows_written, result.rows_rejected) == (102, 100, 2)
    assert result.rejected_ids == (900, 901)


def test_a_failing_batch_keeps_the_days_written_before(sqlite_url: str, lake_uri: str) -> None:
    seed_chamados(sqlite_url, 200, START, 4, 1)
    dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, since=None, batch_size=50)
    before = lake_files(lake_uri)
    newest = "SELECT id_chamado FROM chamado ORDER BY data_inicio DESC LIMIT 1"
    execute(sqlite_url, f"UPDATE chamado SET latitude = 'norte' WHERE id_chamado = ({newest})")
    with pytest.raises(DumpError, match=r"dumping chamado from sqlite:///.* column 'latitude'"):
        dump_table_to_lake(sqlite_url, "chamado", lake_uri=lake_uri, since=None, batch_size=50)
    assert lake_files(lake_uri) == before


def test_queries_are_read_from_sql_files_beside_the_flow() -> None:
    assert "ORDER BY data_inicio, id_chamado" in read_query(PACKAGE, "chamado")
    with pytest.raises(QueryNotFoundError, match="queries/nope.sql"):
        read_query(PACKAGE, "nope")


def test_unknown_table_is_refused(sqlite_url: str, lake_uri: str) -> None:
    with pytest.raises(DumpError, match="unknown table 'chamados'"):
        dump_table_to_lake(sqlite_url, "chamados", lake_uri=lake_uri, since=None)
