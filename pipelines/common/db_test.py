from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from pipelines.common.db import (
    ConversionError,
    DatabaseUrlError,
    coerce_datetime,
    create_engine,
    database_url,
    query_names,
    safe_url,
    stream_batches,
    to_arrow,
)
from pipelines.common.secrets import MissingSecretError

SERIES_SQL = "SELECT n, n * 2 AS twice FROM numbers WHERE n >= :low ORDER BY n"


def _sqlite_numbers(path: Path, count: int) -> sa.Engine:
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE numbers (n INTEGER)"))
        connection.execute(sa.text("INSERT INTO numbers VALUES (:n)"), [{"n": n} for n in range(count)])
    return engine


def test_stream_batches_are_bounded_by_batch_size_sqlite(tmp_path: Path) -> None:
    engine = _sqlite_numbers(tmp_path / "n.sqlite", 1_005)
    batches = list(stream_batches(engine, SERIES_SQL, {"low": 5}, batch_size=100))
    assert [len(batch) for batch in batches] == [100] * 10
    assert batches[0].columns == ("n", "twice")
    assert batches[-1].by_column() == {
        "n": tuple(range(905, 1_005)),
        "twice": tuple(2 * n for n in range(905, 1_005)),
    }
    engine.dispose()


def test_stream_batches_use_a_server_side_cursor_on_postgres(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    sql = "SELECT n FROM generate_series(1, :count) AS n ORDER BY n"
    activity = sa.text(
        "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    sizes: list[int] = []
    for batch in stream_batches(engine, sql, {"count": 2_500}, batch_size=1_000):
        sizes.append(len(batch))
        if len(sizes) == 1:
            with engine.connect() as connection:
                queries: list[str] = list(connection.execute(activity).scalars())
            fetched = [
                int(match.group(1)) for query in queries if (match := re.match(r"FETCH FORWARD (\d+)", query))
            ]
            assert fetched and max(fetched) <= 1_000, queries
    assert sizes == [1_000, 1_000, 500]
    engine.dispose()


def test_stream_batches_use_an_unbuffered_cursor_on_mariadb(mariadb_url: str) -> None:
    engine = create_engine(mariadb_url)
    sql = "SELECT seq AS n FROM seq_1_to_2500 WHERE seq >= :low ORDER BY seq"
    sizes: list[int] = []
    with engine.connect() as connection:
        # pymysql's SSCursor is what keeps a large result on the server, read as it is fetched.
        cursor = connection.execution_options(yield_per=10).execute(sa.text(sql), {"low": 1}).cursor
        assert type(cursor).__name__ == "SSCursor"
        cursor.close()
    for batch in stream_batches(engine, sql, {"low": 1}, batch_size=1_000):
        sizes.append(len(batch))
        assert batch.description[0][:2] == ("n", 8)  # FIELD_TYPE.LONGLONG
    assert sizes == [1_000, 1_000, 500]
    engine.dispose()


@pytest.mark.parametrize(
    ("db_type", "parts", "expected"),
    [
        ("postgres", ("10.0.0.5", 5432, "sigma"), "postgresql+psycopg://10.0.0.5:5432/sigma"),
        ("mysql", ("db.local", 3306, "sms", "utf8mb4"), "mysql+pymysql://db.local:3306/sms?charset=utf8mb4"),
        ("sql_server", ("10.70.1.34", 1433, "REPLICA1746"), "mssql+pymssql://10.70.1.34:1433/REPLICA1746"),
        ("SQL_SERVER", ("h", None, "db", "UTF-8"), "mssql+pymssql://h/db?charset=UTF-8"),
        ("oracle", ("ora.local", 1521, "ORCLPDB1"), "oracle+oracledb://ora.local:1521?service_name=ORCLPDB1"),
    ],
)
def test_urls_from_the_city_db_types(db_type: str, parts: tuple[Any, ...], expected: str) -> None:
    url = database_url(db_type, *parts)
    assert url == expected
    engine = create_engine(url)  # each URL names a pinned driver that SQLAlchemy loads
    assert engine.dialect.name == sa.make_url(expected).get_backend_name()
    engine.dispose()


def test_unknown_db_type_or_empty_host() -> None:
    with pytest.raises(DatabaseUrlError, match="unknown db_type 'db2': use one of mariadb, mssql, mysql"):
        database_url("db2", "h")
    with pytest.raises(DatabaseUrlError, match="db_host is empty"):
        database_url("oracle", "")


def test_oracle_fetches_a_batch_per_round_trip() -> None:
    def arraysize(url: str, batch_size: int | None = None) -> Any:
        return vars(create_engine(url, batch_size=batch_size).dialect).get("arraysize", "not an option")

    url = "oracle+oracledb://ora.local:1521/?service_name=X"
    assert arraysize(url, 50_000) == 10_000
    assert arraysize(url, 500) == 500
    assert arraysize(url) is None  # the driver's default
    assert arraysize("sqlite://", 500) == "not an option"


def test_query_names_list_the_packages_sql_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "pkg_with_queries"
    (package / "queries").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("b.sql", "a.sql", "notes.txt"):
        (package / "queries" / name).write_text("SELECT 1")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert query_names("pkg_with_queries") == ["a", "b"]
    assert query_names("pipelines.common") == []


def test_empty_result_yields_nothing(tmp_path: Path) -> None:
    engine = _sqlite_numbers(tmp_path / "n.sqlite", 3)
    assert list(stream_batches(engine, SERIES_SQL, {"low": 10}, batch_size=2)) == []
    with pytest.raises(ValueError):
        list(stream_batches(engine, SERIES_SQL, {"low": 0}, batch_size=0))
    engine.dispose()


def test_credentials_from_secret_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_TEST__DB_USERNAME", "reader")
    monkeypatch.setenv("DB_TEST__DB_PASSWORD", "p@ss")
    engine = create_engine("postgresql+psycopg://db.example:5432/x", secret_path="DB_TEST")
    assert engine.url.username == "reader"
    assert engine.url.password == "p@ss"
    assert (
        safe_url(engine.url.render_as_string(hide_password=False))
        == "postgresql+psycopg://reader:***@db.example:5432/x"
    )
    monkeypatch.delenv("DB_TEST__DB_PASSWORD")
    with pytest.raises(MissingSecretError, match="DB_TEST__DB_PASSWORD"):
        create_engine("postgresql+psycopg://db.example:5432/x", secret_path="DB_TEST")


def test_to_arrow_names_the_column_that_does_not_fit() -> None:
    schema = pa.schema([("id", pa.int64()), ("name", pa.string())])
    assert to_arrow({"id": [1, None], "name": ["a", "b"]}, schema).num_rows == 2
    with pytest.raises(ConversionError, match="column 'id'"):
        to_arrow({"id": [1, "x"], "name": ["a", "b"]}, schema)
    with pytest.raises(ConversionError, match=r"missing \['name'\], unexpected \['other'\]"):
        to_arrow({"id": [1], "other": ["a"]}, schema)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 1, 2, 3, 4), datetime(2024, 1, 2, 3, 4)),
        (date(2024, 1, 2), datetime(2024, 1, 2)),
        ("2024-01-02 03:04:05.000000", datetime(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02T03:04", datetime(2024, 1, 2, 3, 4)),
        ("2024-02-30 10:00:00", None),
        ("not a date", None),
        ("", None),
        (None, None),
        (12, None),
    ],
)
def test_coerce_datetime(value: object, expected: datetime | None) -> None:
    assert coerce_datetime(value) == expected
