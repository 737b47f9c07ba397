"""Column types per dialect, from the real drivers' type codes (SQL Server and Oracle have no server here)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import oracledb
import pyarrow as pa
import pymssql
import pytest
from pymysql.constants import FIELD_TYPE  # type: ignore[import-untyped]

from pipelines.common.arrow_types import BatchConverter, described_type, parse_type, to_text
from pipelines.common.db import ConversionError, RowBatch


def column(type_code: Any, precision: int | None = None, scale: int | None = None) -> tuple[Any, ...]:
    return ("c", type_code, None, None, precision, scale, True)


@pytest.mark.parametrize(
    ("type_code", "precision", "scale", "expected"),
    [
        (oracledb.DB_TYPE_NUMBER, 10, 0, pa.int64()),
        (oracledb.DB_TYPE_NUMBER, 20, 0, pa.decimal128(20, 0)),
        (oracledb.DB_TYPE_NUMBER, 12, 2, pa.decimal128(12, 2)),
        (oracledb.DB_TYPE_NUMBER, 0, -127, pa.string()),  # a bare NUMBER: exact text
        (oracledb.DB_TYPE_NUMBER, 126, -127, pa.float64()),  # FLOAT(126)
        (oracledb.DB_TYPE_VARCHAR, None, None, pa.string()),
        (oracledb.DB_TYPE_NVARCHAR, None, None, pa.string()),
        (oracledb.DB_TYPE_CLOB, None, None, pa.string()),
        (oracledb.DB_TYPE_BLOB, None, None, pa.binary()),
        (oracledb.DB_TYPE_DATE, None, None, pa.timestamp("us")),  # Oracle's DATE holds a time of day
        (oracledb.DB_TYPE_TIMESTAMP_TZ, None, None, pa.timestamp("us", tz="UTC")),
        (oracledb.DB_TYPE_BINARY_DOUBLE, None, None, pa.float64()),
        (oracledb.DB_TYPE_INTERVAL_DS, None, None, pa.duration("us")),
        (oracledb.DB_TYPE_OBJECT, None, None, None),
    ],
)
def test_oracle_types(
    type_code: Any, precision: int | None, scale: int | None, expected: pa.DataType
) -> None:
    assert described_type("oracle", column(type_code, precision, scale)) == expected


@pytest.mark.parametrize(
    ("type_code", "expected"),
    [
        (pymssql.STRING, pa.string()),
        (pymssql.BINARY, pa.binary()),
        (pymssql.DECIMAL, pa.string()),  # pymssql reports no precision: exact text
        (pymssql.NUMBER, None),  # int, float or bit: told by the values
        (pymssql.DATETIME, None),  # datetime, date or time: told by the values
    ],
)
def test_sql_server_types(type_code: Any, expected: pa.DataType | None) -> None:
    # pymssql's descriptions hold plain ints, which its DBAPI type objects compare equal to.
    code = next(code for code in range(1, 6) if type_code == code)
    assert described_type("mssql", column(code)) == expected


@pytest.mark.parametrize(
    ("type_code", "precision", "scale", "expected"),
    [
        (FIELD_TYPE.LONGLONG, 20, 0, pa.int64()),
        (FIELD_TYPE.NEWDECIMAL, 12, 2, pa.decimal128(11, 2)),  # DECIMAL(10,2) is reported as length 12
        (FIELD_TYPE.NEWDECIMAL, 11, 0, pa.decimal128(11, 0)),
        (FIELD_TYPE.DATETIME, 19, 0, pa.timestamp("us")),
        (FIELD_TYPE.DATE, 10, 0, pa.date32()),
        (FIELD_TYPE.TIME, 10, 0, pa.duration("us")),  # MySQL's TIME is an interval (can exceed 24 h)
        (FIELD_TYPE.JSON, None, None, pa.string()),
        (FIELD_TYPE.VAR_STRING, 80, 0, None),  # VARCHAR and VARBINARY share it: told by the values
        (FIELD_TYPE.BLOB, None, None, None),
    ],
)
def test_mysql_types(type_code: int, precision: int | None, scale: int | None, expected: pa.DataType) -> None:
    assert described_type("mysql", column(type_code, precision, scale)) == expected


@pytest.mark.parametrize(
    ("oid", "precision", "scale", "expected"),
    [
        (20, None, None, pa.int64()),
        (1700, 10, 2, pa.decimal128(10, 2)),
        (1700, None, None, pa.string()),
        (1114, None, None, pa.timestamp("us")),
        (1184, None, None, pa.timestamp("us", tz="UTC")),
        (3802, None, None, pa.string()),
        (1007, None, None, pa.string()),  # int4[]
        (600, None, None, None),  # point: told by the values
    ],
)
def test_postgres_types(oid: int, precision: int | None, scale: int | None, expected: pa.DataType) -> None:
    assert described_type("postgresql", column(oid, precision, scale)) == expected


def test_sqlite_and_unknown_dialects_leave_types_to_the_values() -> None:
    assert described_type("sqlite", ("c", None, None, None, None, None, None)) is None
    assert described_type("duckdb", column(1)) is None


def test_type_names() -> None:
    assert parse_type(" Timestamp ") == pa.timestamp("us")
    assert parse_type("decimal(12, 2)") == pa.decimal128(12, 2)
    for bad in ("inteiro", "decimal(40,2)", "decimal(2,3)"):
        with pytest.raises(ValueError, match="unknown column type"):
            parse_type(bad)


def batch(columns: tuple[str, ...], *rows: tuple[Any, ...], description: tuple[Any, ...] = ()) -> RowBatch:
    return RowBatch(columns, list(rows), description)


def test_the_first_batch_fixes_the_schema_and_later_batches_follow_it() -> None:
    converter = BatchConverter("sqlite")
    first = converter.convert(batch(("id", "nota", "quando"), (1, None, "2024-01-01"), (2, None, None)))
    assert first.schema == pa.schema([("id", pa.int64()), ("nota", pa.string()), ("quando", pa.string())])
    later = converter.convert(batch(("id", "nota", "quando"), (3, 7, date(2024, 1, 2)), (4, {"a": 1}, None)))
    assert later.schema == first.schema
    assert later.to_pylist() == [
        {"id": 3, "nota": "7", "quando": "2024-01-02"},
        {"id": 4, "nota": '{"a": 1}', "quando": None},
    ]


def test_overrides_then_the_lake_then_the_driver() -> None:
    described = (
        ("a", 20, None, 8, None, None, None),
        ("b", 20, None, 8, None, None, None),
        ("c", 20) + (None,) * 5,
    )
    converter = BatchConverter(
        "postgresql",
        overrides={"a": pa.string()},
        known=pa.schema([("b", pa.float64()), ("z", pa.string())]),
    )
    table = converter.convert(batch(("a", "b", "c"), (1, 2, 3), description=described))
    assert table.schema == pa.schema([("a", pa.string()), ("b", pa.float64()), ("c", pa.int64())])
    assert table.to_pylist() == [{"a": "1", "b": 2.0, "c": 3}]


def test_values_drivers_return_are_converted() -> None:
    described = (
        ("valor", 1700, None, None, 12, 2, None),
        ("doc", 3802) + (None,) * 5,
        ("id", 2950) + (None,) * 5,
        ("em", 1184) + (None,) * 5,
        ("preco", oracledb.DB_TYPE_BINARY_DOUBLE) + (None,) * 5,
    )
    converter = BatchConverter("postgresql")
    table = converter.convert(
        batch(
            ("valor", "doc", "id", "em", "preco"),
            (Decimal("10.50"), [1, 2], "x", datetime(2024, 1, 1, tzinfo=UTC), Decimal("2.5")),
            description=described,
        )
    )
    row = table.to_pylist()[0]
    assert row["valor"] == Decimal("10.50") and row["doc"] == "[1, 2]"
    assert row["em"] == datetime(2024, 1, 1, tzinfo=UTC)
    assert (
        table.schema.field("preco").type == pa.string()
    )  # an Oracle type code read as PostgreSQL's: no match


def test_invalid_dates_become_null_and_are_counted_per_column() -> None:
    converter = BatchConverter("sqlite", overrides={"fim": pa.timestamp("us"), "dia": pa.date32()})
    table = converter.convert(
        batch(("fim", "dia"), ("2024-01-05 10:00:00", "2024-02-30"), ("garbage", datetime(2024, 1, 3, 4)))
    )
    assert table["fim"].to_pylist() == [datetime(2024, 1, 5, 10), None]
    assert table["dia"].to_pylist() == [None, date(2024, 1, 3)]
    assert converter.invalid_values == {"fim": 1, "dia": 1}


def test_a_value_that_does_not_fit_names_its_column() -> None:
    converter = BatchConverter("sqlite", overrides={"lat": pa.float64()})
    converter.convert(batch(("lat",), (-22.9,)))
    with pytest.raises(ConversionError, match="column 'lat' does not fit type double"):
        converter.convert(batch(("lat",), ("norte",)))
    with pytest.raises(ConversionError, match="column_types names columns the query does not return"):
        BatchConverter("sqlite", overrides={"x": pa.int64()}).convert(batch(("lat",), (1.0,)))


def test_text_of_values() -> None:
    assert to_text(timedelta(hours=1)) == "1:00:00"
    assert to_text(b"\xc3\xa9") == "é"
    assert to_text({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
