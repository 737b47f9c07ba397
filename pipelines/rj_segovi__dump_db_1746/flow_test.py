from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.common.db_testing import execute
from pipelines.common.dump import DumpError
from pipelines.common.settings import LAKE_URI_ENV, LOCAL_DATA_DIR_ENV
from pipelines.common.source import LOCAL_RUN_ENV
from pipelines.rj_segovi__dump_db_1746.flow import rj_segovi__dump_db_1746
from pipelines.rj_segovi__dump_db_1746.sample_db import SAMPLE_BROKEN_DATES, SAMPLE_DAYS, SAMPLE_ROWS
from pipelines.rj_segovi__dump_db_1746.testing import lake_files, read_dump, seed_chamados

pytestmark = pytest.mark.usefixtures("prefect_harness")

START = datetime(2024, 3, 1)


def _assert_no_duplicates(lake_uri: str, expected: int) -> None:
    ids = read_dump(lake_uri)["id_chamado"].to_pylist()
    assert len(ids) == expected
    assert len(set(ids)) == expected


def _run_twice_then_incremental(url: str, lake_uri: str) -> None:
    seed_chamados(url, 2_000, START, 10, 1)
    first = rj_segovi__dump_db_1746(database_url=url, lake_uri=lake_uri, batch_size=300)
    assert (first.since, first.rows_read, first.rows_written) == (None, 2_000, 2_000)
    assert first.days_written == tuple(date(2024, 3, day) for day in range(1, 11))
    files = lake_files(lake_uri)

    again = rj_segovi__dump_db_1746(database_url=url, lake_uri=lake_uri, batch_size=300)
    assert again.since == date(2024, 3, 10)
    assert again.days_written == (date(2024, 3, 10),)
    assert again.rows_read < 400
    assert lake_files(lake_uri) == files
    _assert_no_duplicates(lake_uri, 2_000)

    seed_chamados(url, 500, datetime(2024, 3, 10, 12), 3, 100_000)
    incremental = rj_segovi__dump_db_1746(database_url=url, lake_uri=lake_uri, batch_size=300)
    assert incremental.since == date(2024, 3, 10)
    assert incremental.days_written[-1] == date(2024, 3, 13)
    assert incremental.rows_read == incremental.rows_written < 1_000
    _assert_no_duplicates(lake_uri, 2_500)
    assert {name for name in files} <= set(lake_files(lake_uri))


def test_sqlite_dump_twice_and_incremental(sqlite_url: str, lake_uri: str) -> None:
    _run_twice_then_incremental(sqlite_url, lake_uri)


def test_postgres_dump_twice_and_incremental(postgres_schema_url: str, lake_uri: str) -> None:
    _run_twice_then_incremental(postgres_schema_url, lake_uri)


def test_postgres_unreadable_date_fails_clearly_and_keeps_the_lake(
    postgres_schema_url: str, lake_uri: str
) -> None:
    seed_chamados(postgres_schema_url, 300, START, 3, 1)
    rj_segovi__dump_db_1746(database_url=postgres_schema_url, lake_uri=lake_uri, batch_size=100)
    before = lake_files(lake_uri)
    execute(postgres_schema_url, "INSERT INTO chamado (id_chamado, data_inicio) VALUES (999, 'infinity')")
    with pytest.raises(
        DumpError, match=r"dumping chamado from postgresql\+psycopg://pipelines:\*\*\*@.*after year"
    ):
        rj_segovi__dump_db_1746(database_url=postgres_schema_url, lake_uri=lake_uri, batch_size=100)
    assert lake_files(lake_uri) == before


def test_a_local_run_generates_and_dumps_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOCAL_RUN_ENV, "1")
    monkeypatch.setenv(LOCAL_DATA_DIR_ENV, str(tmp_path / "local"))
    monkeypatch.delenv(LAKE_URI_ENV, raising=False)
    result = rj_segovi__dump_db_1746()
    assert (tmp_path / "local/samples/db_1746.sqlite").is_file()
    assert result.destination == str(tmp_path / "local/lake/brutos_1746/chamado")
    assert result.rows_written == SAMPLE_ROWS
    assert result.rows_rejected == len(SAMPLE_BROKEN_DATES)
    assert len(result.days_written) == SAMPLE_DAYS
    _assert_no_duplicates(str(tmp_path / "local/lake"), SAMPLE_ROWS)
