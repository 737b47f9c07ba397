"""The generic dump against real databases: SQLite, PostgreSQL and MariaDB (servers: build-support/ci/)."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from pipelines.common.db_testing import execute
from pipelines.common.dump import DumpError, DumpParameters, dump_to_lake
from pipelines.common.dump_parameters import read_start, resolve_date
from pipelines.common.dump_query import dump_query
from pipelines.common.lake import Lake
from pipelines.common.secrets import MissingSecretError, secret_env_var
from pipelines.common.source import LOCAL_RUN_ENV

BACKENDS = ["sqlite_url", "postgres_schema_url", "mariadb_database_url"]
START = datetime(2024, 5, 1, 8, 0)
DATASET = "brutos_teste"

metadata = sa.MetaData()
evento = sa.Table(
    "evento",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("criado_em", sa.DateTime),
    sa.Column("valor", sa.Numeric(10, 2)),
    sa.Column("nome", sa.String(80)),
    sa.Column("ativo", sa.Boolean),
    sa.Column("criado_texto", sa.String(19)),
)


@pytest.fixture(params=BACKENDS)
def source_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(request.param)
    return url


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real importable package with a queries/ directory, as a dump pipeline has."""
    name = f"dump_test_pkg_{uuid.uuid4().hex[:8]}"
    root = tmp_path / "src" / name
    (root / "queries").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "queries" / "evento.sql").write_text(
        "-- every event\nSELECT id, criado_em, valor, nome, ativo, criado_texto FROM evento;\n"
    )
    (root / "queries" / "evento_desde.sql").write_text(
        "SELECT id, criado_em, nome FROM evento WHERE criado_em >= :since ORDER BY criado_em, id\n"
    )
    (root / "queries" / "literais.sql").write_text(
        "SELECT id, '10:30' AS hora, 'a:b' AS par, '{\"a\":1}' AS doc, nome FROM evento "
        "WHERE nome LIKE 'evento%' OR nome LIKE '%:%'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    yield name
    sys.modules.pop(name, None)


def seed(url: str, count: int, start: datetime = START, first_id: int = 1, hours: int = 7) -> None:
    """``count`` events, one every ``hours`` hours from ``start``."""
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
        rows = [
            {
                "id": first_id + index,
                "criado_em": start + timedelta(hours=hours * index),
                "valor": Decimal(index) / 4,
                "nome": f"evento {first_id + index}",
                "ativo": index % 2 == 0,
                "criado_texto": (start + timedelta(hours=hours * index)).strftime("%Y-%m-%d %H:%M:%S"),
            }
            for index in range(count)
        ]
        with engine.begin() as connection:
            connection.execute(evento.insert(), rows)
    finally:
        engine.dispose()


def day_of(event_id: int, start: datetime = START, first_id: int = 1, hours: int = 7) -> date:
    return (start + timedelta(hours=hours * (event_id - first_id))).date()


def on_day(day: date, count: int) -> list[int]:
    return [event_id for event_id in range(1, count + 1) if day_of(event_id) == day]


def params(url: str, lake_uri: str, **changes: Any) -> DumpParameters:
    return replace(
        DumpParameters(
            table_id="evento", dataset_id=DATASET, database_url=url, lake_uri=lake_uri, batch_size=7
        ),
        **changes,
    )


def files(lake_uri: str) -> dict[str, bytes]:
    root = Path(lake_uri)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def read(lake_uri: str, table: str = "evento") -> pa.Table:
    return Lake.from_uri(lake_uri).read_table(f"{DATASET}/{table}")


def ids(lake_uri: str, table: str = "evento") -> list[int]:
    return sorted(read(lake_uri, table)["id"].to_pylist())


def test_overwrite_unpartitioned_replaces_the_table_and_reruns_change_nothing(
    source_url: str, lake_uri: str, package: str
) -> None:
    seed(source_url, 30)
    first = dump_to_lake(params(source_url, lake_uri), package=package)
    assert (first.rows_read, first.rows_written, first.files_written, first.days_written) == (30, 30, 5, ())
    table_dir = f"{DATASET}/evento"
    assert sorted(files(lake_uri)) == [f"{table_dir}/evento_part{n:05d}.parquet" for n in range(5)]
    before = files(lake_uri)

    assert dump_to_lake(params(source_url, lake_uri), package=package).stale_files_deleted == 0
    assert files(lake_uri) == before

    execute(source_url, "DELETE FROM evento WHERE id > 10")
    smaller = dump_to_lake(params(source_url, lake_uri), package=package)
    assert (smaller.rows_written, smaller.files_written, smaller.stale_files_deleted) == (10, 2, 3)
    assert ids(lake_uri) == list(range(1, 11))


def test_types_come_from_the_driver_or_the_values(source_url: str, lake_uri: str, package: str) -> None:
    seed(source_url, 3)
    dump_to_lake(params(source_url, lake_uri), package=package)
    schema = read(lake_uri).schema
    dialect = sa.make_url(source_url).get_backend_name()
    assert schema.field("id").type == pa.int64()
    assert schema.field("nome").type == pa.string()
    if dialect == "sqlite":  # no types in SQLite's description: read from the values (ISO text stays text)
        assert schema.field("criado_em").type == pa.string()
        assert schema.field("valor").type == pa.float64()
        assert schema.field("ativo").type == pa.int64()
    else:
        assert schema.field("criado_em").type == pa.timestamp("us")
        assert schema.field("valor").type == (
            pa.decimal128(10, 2) if dialect == "postgresql" else pa.decimal128(11, 2)
        )
        assert schema.field("ativo").type == (pa.bool_() if dialect == "postgresql" else pa.int64())
    table = read(lake_uri).sort_by("id")
    if dialect != "sqlite":
        assert table["criado_em"].to_pylist()[:2] == [START, START + timedelta(hours=7)]
    assert [float(value) for value in table["valor"].to_pylist()] == [0.0, 0.25, 0.5]


def test_incremental_rewrites_from_the_newest_day_without_duplicates(
    source_url: str, lake_uri: str, package: str
) -> None:
    seed(source_url, 40)  # 40 events every 7 h: 2024-05-01 .. 2024-05-12
    incremental = params(source_url, lake_uri, dump_mode="incremental", partition_column="criado_em")
    first = dump_to_lake(incremental, package=package)
    assert first.since is None
    assert first.days_written == tuple(date(2024, 5, day) for day in range(1, 13))
    day_dir = f"{DATASET}/evento/ano_particao=2024/mes_particao=05/data_particao=2024-05-01"
    assert f"{day_dir}/evento_2024-05-01_part00000.parquet" in files(lake_uri)
    before = files(lake_uri)

    again = dump_to_lake(incremental, package=package)
    assert again.since == date(2024, 5, 12)
    assert again.days_written == (date(2024, 5, 12),)
    assert again.rows_read < 5
    assert files(lake_uri) == before

    seed(source_url, 10, start=datetime(2024, 5, 12, 23), first_id=1_000)
    more = dump_to_lake(incremental, package=package)
    assert more.since == date(2024, 5, 12)
    assert more.days_written[0] == date(2024, 5, 12) and more.days_written[-1] == date(2024, 5, 15)
    assert ids(lake_uri) == [*range(1, 41), *range(1_000, 1_010)]


def test_incremental_drops_the_newest_day_when_the_source_lost_it(
    source_url: str, lake_uri: str, package: str
) -> None:
    seed(source_url, 40)
    incremental = params(source_url, lake_uri, dump_mode="incremental", partition_column="criado_em")
    dump_to_lake(incremental, package=package)
    newest = on_day(date(2024, 5, 12), 40)
    execute(source_url, f"DELETE FROM evento WHERE id >= {newest[0]}")
    seed(source_url, 2, start=datetime(2024, 5, 14, 9), first_id=500)
    result = dump_to_lake(incremental, package=package)
    assert result.since == date(2024, 5, 12)
    assert result.days_written == (date(2024, 5, 14),)
    assert not any("data_particao=2024-05-12" in path for path in files(lake_uri))
    assert ids(lake_uri) == [*range(1, newest[0]), 500, 501]


def test_lower_bound_is_a_floor_in_every_mode(source_url: str, lake_uri: str, package: str) -> None:
    seed(source_url, 40)
    floor = params(source_url, lake_uri, partition_column="criado_em", lower_bound_date="2024-05-10")
    result = dump_to_lake(floor, package=package)
    assert result.since == date(2024, 5, 10)
    assert result.days_written == (date(2024, 5, 10), date(2024, 5, 11), date(2024, 5, 12))
    assert ids(lake_uri) == [event_id for event_id in range(1, 41) if day_of(event_id) >= date(2024, 5, 10)]
    incremental = replace(floor, dump_mode="incremental", lower_bound_date="2024-05-01")
    assert dump_to_lake(incremental, package=package).since == date(2024, 5, 12)  # the watermark is newer


def test_overwrite_partitioned_keeps_only_the_days_read(source_url: str, lake_uri: str, package: str) -> None:
    seed(source_url, 20)
    partitioned = params(source_url, lake_uri, partition_column="criado_em")
    dump_to_lake(partitioned, package=package)
    execute(source_url, "DELETE FROM evento WHERE id <= 4")  # 2024-05-01 and 02
    result = dump_to_lake(partitioned, package=package)
    assert result.days_written[0] == date(2024, 5, 2)
    assert not any("data_particao=2024-05-01" in path for path in files(lake_uri))
    assert ids(lake_uri) == list(range(5, 21))


def test_append_adds_each_run_once(source_url: str, lake_uri: str, package: str) -> None:
    seed(source_url, 12)
    append = params(source_url, lake_uri, dump_mode="append", partition_column="criado_em")
    dump_to_lake(replace(append, run_key="20240601T030000"), package=package)
    before = files(lake_uri)
    dump_to_lake(replace(append, run_key="20240601T030000"), package=package)  # a retry of the same run
    assert files(lake_uri) == before
    dump_to_lake(replace(append, run_key="20240602T030000"), package=package)
    assert ids(lake_uri) == sorted([*range(1, 13), *range(1, 13)])
    assert any(
        path.endswith("evento_2024-05-01_20240602T030000_part00000.parquet") for path in files(lake_uri)
    )


def test_a_query_with_its_own_since_runs_as_written(source_url: str, lake_uri: str, package: str) -> None:
    seed(source_url, 20)
    own = params(
        source_url, lake_uri, query="evento_desde", dump_mode="incremental", partition_column="criado_em"
    )
    assert dump_to_lake(own, package=package).rows_written == 20
    rerun = dump_to_lake(own, package=package)
    assert rerun.since == date(2024, 5, 6) and rerun.rows_read == len(on_day(date(2024, 5, 6), 20))
    assert read(lake_uri).column_names[:3] == ["id", "criado_em", "nome"]  # then the partition keys


def test_colons_and_percent_signs_in_queries_are_text(source_url: str, lake_uri: str, package: str) -> None:
    seed(source_url, 3)
    result = dump_to_lake(params(source_url, lake_uri, table_id="literais"), package=package)
    assert result.rows_written == 3
    row = read(lake_uri, "literais").sort_by("id").to_pylist()[0]
    assert (row["hora"], row["par"], row["doc"]) == ("10:30", "a:b", '{"a":1}')


def test_text_dates_partition_with_their_format(source_url: str, lake_uri: str, package: str) -> None:
    seed(source_url, 10)
    execute(source_url, "UPDATE evento SET criado_texto = 'não informado' WHERE id = 3")
    text = params(
        source_url,
        lake_uri,
        dump_mode="incremental",
        partition_column="criado_texto",
        partition_date_format="%Y-%m-%d %H:%M:%S",
        id_column="id",
    )
    first = dump_to_lake(text, package=package)
    assert (first.rows_written, first.rows_rejected, first.rejected_ids) == (9, 1, (3,))
    assert read(lake_uri).schema.field("criado_texto").type == pa.string()
    again = dump_to_lake(text, package=package)
    assert again.since == date(2024, 5, 3)  # compared as text from the day's start
    assert again.rows_written == len(on_day(date(2024, 5, 3), 10))


def test_source_table_without_a_query_file(source_url: str, lake_uri: str, package: str) -> None:
    seed(source_url, 5)
    result = dump_to_lake(
        params(source_url, lake_uri, table_id="copia", source_table="evento"), package=package
    )
    assert result.rows_written == 5
    assert ids(lake_uri, "copia") == [1, 2, 3, 4, 5]


def test_rows_out_of_order_are_still_written_once(
    sqlite_url: str, lake_uri: str, package: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seed(sqlite_url, 30)
    unordered = tmp_path / "src" / package / "queries" / "embaralhado.sql"
    unordered.write_text("SELECT id, criado_em FROM evento WHERE criado_em >= :since ORDER BY id % 3, id\n")
    shuffled = params(
        sqlite_url, lake_uri, table_id="embaralhado", dump_mode="incremental", partition_column="criado_em"
    )
    result = dump_to_lake(shuffled, package=package)
    assert result.rows_written == 30
    assert "Rows were not in criado_em order" in caplog.text
    assert ids(lake_uri, "embaralhado") == list(range(1, 31))
    assert dump_to_lake(shuffled, package=package).since == date(2024, 5, 9)
    assert ids(lake_uri, "embaralhado") == list(range(1, 31))


def export_credentials(
    monkeypatch: pytest.MonkeyPatch, secret_path: str, username: str | None, password: str | None
) -> None:
    """What the Kubernetes secret named by secretName gives a run: <SECRET_PATH>__DB_USERNAME/PASSWORD."""
    monkeypatch.setenv(secret_env_var(secret_path, "DB_USERNAME"), username or "")
    monkeypatch.setenv(secret_env_var(secret_path, "DB_PASSWORD"), password or "")


@pytest.mark.parametrize(
    ("server", "db_type", "source_table", "column", "expected"),
    [
        ("postgres_url", "postgres", "pg_catalog.pg_am", "amname", "btree"),
        ("mariadb_url", "mysql", "information_schema.CHARACTER_SETS", "CHARACTER_SET_NAME", "utf8mb4"),
    ],
)
def test_connection_by_parts_with_credentials_from_the_secret_convention(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    lake_uri: str,
    package: str,
    server: str,
    db_type: str,
    source_table: str,
    column: str,
    expected: str,
) -> None:
    url = sa.make_url(request.getfixturevalue(server))
    export_credentials(monkeypatch, "DB_TESTE", url.username, url.password)
    by_parts = DumpParameters(
        table_id="catalogo",
        dataset_id=DATASET,
        source_table=source_table,
        db_type=db_type,
        db_host=url.host,
        db_port=url.port,
        db_database=url.database,
        db_credentials="DB_TESTE",
        lake_uri=lake_uri,
    )
    assert dump_to_lake(by_parts, package=package).rows_written > 0
    assert expected in read(lake_uri, "catalogo")[column].to_pylist()

    export_credentials(monkeypatch, "DB_TESTE", url.username, f"not-{url.password}")
    refused = rf"dumping catalogo from {re.escape(url.drivername)}://127\.0\.0\.1:.*(password|denied)"
    with pytest.raises(DumpError, match=refused):
        dump_to_lake(by_parts, package=package)


def test_every_problem_of_the_parameters_is_reported_at_once(lake_uri: str, package: str) -> None:
    bad = DumpParameters(
        table_id="a/b",
        dataset_id="brutos",
        dump_mode="incremental",
        batch_size=0,
        lower_bound_date="ontem",
        database_url="sqlite://",
        db_host="10.0.0.1",
        column_types={"x": "inteiro"},
        lake_uri=lake_uri,
    )
    with pytest.raises(DumpError) as caught:
        dump_to_lake(bad, package=package)
    message = str(caught.value)
    for expected in (
        "table_id 'a/b'",
        "dump_mode 'incremental' needs partition_column",
        "lower_bound_date 'ontem'",
        "batch_size 0",
        "database_url or db_type",
        "column_types['x']: unknown column type 'inteiro'",
    ):
        assert expected in message
    assert not Path(lake_uri).exists()


def test_a_missing_column_or_query_is_named(sqlite_url: str, lake_uri: str, package: str) -> None:
    seed(sqlite_url, 3)
    with pytest.raises(DumpError, match=r"'quando' is not a column of the query's result \(it returns: id, "):
        dump_to_lake(
            params(sqlite_url, lake_uri, query="evento_desde", partition_column="quando"), package=package
        )
    with pytest.raises(DumpError, match="no such column: quando"):  # a wrapped query: the database says it
        dump_to_lake(params(sqlite_url, lake_uri, partition_column="quando"), package=package)
    with pytest.raises(DumpError, match=r"unknown table 'nada'.*its queries: evento, evento_desde, literais"):
        dump_to_lake(params(sqlite_url, lake_uri, table_id="nada"), package=package)
    with pytest.raises(DumpError, match="partition_column 'id' holds int64 values"):
        dump_to_lake(params(sqlite_url, lake_uri, partition_column="id"), package=package)


def test_no_database_uses_the_sample_only_in_a_local_run_on_a_local_lake(
    sqlite_url: str, lake_uri: str, package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_url, 4)
    local = DumpParameters(table_id="evento", dataset_id=DATASET, lake_uri=lake_uri)
    monkeypatch.delenv(LOCAL_RUN_ENV, raising=False)
    with pytest.raises(DumpError, match="no database to dump 'evento' from.*<DB_CREDENTIALS>__DATABASE_URL"):
        dump_to_lake(local, package=package, sample_database=lambda: sqlite_url)
    assert not Path(lake_uri).exists() or list(Path(lake_uri).iterdir()) == []
    monkeypatch.setenv(LOCAL_RUN_ENV, "1")
    assert dump_to_lake(local, package=package, sample_database=lambda: sqlite_url).rows_written == 4
    with pytest.raises(DumpError, match="no database to dump 'evento' from"):
        dump_to_lake(local, package=package)
    remote = replace(local, lake_uri="gs://never-reached/lake")
    with pytest.raises(DumpError, match="set database_url, or db_type"):
        dump_to_lake(remote, package=package, sample_database=lambda: sqlite_url)


def test_the_database_url_can_come_from_the_job_secret(
    sqlite_url: str, lake_uri: str, package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(sqlite_url, 3)
    monkeypatch.delenv(LOCAL_RUN_ENV, raising=False)
    parameters = DumpParameters(
        table_id="evento", dataset_id=DATASET, lake_uri=lake_uri, db_credentials="db_teste"
    )
    monkeypatch.delenv("DB_TESTE__DATABASE_URL", raising=False)
    with pytest.raises(MissingSecretError, match="DB_TESTE__DATABASE_URL"):
        dump_to_lake(parameters, package=package)
    monkeypatch.setenv("DB_TESTE__DATABASE_URL", sqlite_url)
    assert dump_to_lake(parameters, package=package).rows_written == 3


@pytest.mark.parametrize(
    ("dialect", "bind"),
    [("postgresql", "%(since)s"), ("mysql", "%(since)s"), ("mssql", "%(since)s"), ("oracle", ":since")],
)
def test_the_wrapped_query_compiles_for_each_dialect(dialect: str, bind: str) -> None:
    sql, values = dump_query(
        dialect, "SELECT a, b FROM t -- no ORDER BY\n;", partition_column="b", since=date(2024, 1, 2)
    )
    assert (
        sql
        == "SELECT * FROM (\nSELECT a, b FROM t -- no ORDER BY\n) dump_source WHERE b >= :since ORDER BY b"
    )
    assert values == {"since": datetime(2024, 1, 2)}
    drivers = {"postgresql": "psycopg", "mysql": "pymysql", "mssql": "pymssql", "oracle": "oracledb"}
    engine = sa.create_engine(f"{dialect}+{drivers[dialect]}://u:p@127.0.0.1:1/d")
    assert f"WHERE b >= {bind} ORDER BY b" in str(sa.text(sql).compile(dialect=engine.dialect))


def test_sql_server_refuses_an_order_by_inside_the_subquery() -> None:
    order = "SELECT a, b FROM t ORDER BY a"
    with pytest.raises(DumpError, match="remove the ORDER BY"):
        dump_query("mssql", order, partition_column="b", since=None)
    nested = "SELECT a, b FROM (SELECT TOP 5 a, b FROM t ORDER BY a) x WHERE c = 'order by'"
    assert dump_query("mssql", nested, partition_column="b", since=None)[0].endswith("ORDER BY b")
    assert dump_query("postgresql", order, partition_column="b", since=None)[1] == {}


def test_since_for_text_dates_and_sqlite() -> None:
    assert dump_query(
        "mssql", "SELECT 1 x", partition_column="d", since=date(2024, 3, 1), text_format="%Y%m%d"
    )[1] == {"since": "20240301"}
    assert dump_query("sqlite", "SELECT * FROM t WHERE d >= :since", partition_column=None, since=None)[
        1
    ] == {"since": "1900-01-01 00:00:00"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-02-29", date(2024, 2, 29)),
        ("current_day", date(2024, 3, 15)),
        ("previous_day", date(2024, 3, 14)),
        ("current_month", date(2024, 3, 1)),
        ("previous_month", date(2024, 2, 1)),
        ("current_year", date(2024, 1, 1)),
    ],
)
def test_lower_bounds(value: str, expected: date) -> None:
    assert resolve_date(value, date(2024, 3, 15)) == expected


def test_lower_bound_in_the_partition_format_and_read_start() -> None:
    assert resolve_date("15/03/2024", date(2024, 1, 1), "%d/%m/%Y") == date(2024, 3, 15)
    with pytest.raises(ValueError, match="current_month"):
        resolve_date("amanhã", date(2024, 1, 1))
    assert read_start("incremental", date(2024, 3, 1), date(2024, 2, 1)) == date(2024, 3, 1)
    assert read_start("incremental", None, date(2024, 2, 1)) == date(2024, 2, 1)
    assert read_start("overwrite", date(2024, 3, 1), None) is None
