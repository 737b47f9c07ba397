"""Arrow types for the columns of a query result, and the conversion of each batch to them.

A column's type comes, in this order, from: the user's ``column_types`` (names such as ``int64``,
``timestamp`` or ``decimal(12,2)``); the table already in the lake (so new files match the old ones); the
driver's cursor description (``described_type``, per dialect); or the first batch's values. Once chosen it is
fixed for the whole dump, so every file of a table has the same schema. What cannot be pinned exactly
(numbers without a declared precision, JSON, UUIDs, arrays) becomes text, as in the city's raw layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Final

import pyarrow as pa

from pipelines.common.db import ConversionError, RowBatch, coerce_datetime

TIMESTAMP: Final = pa.timestamp("us")
TIMESTAMP_UTC: Final = pa.timestamp("us", tz="UTC")
MAX_DECIMAL_PRECISION: Final = 38

TYPE_NAMES: Final[Mapping[str, pa.DataType]] = {
    "string": pa.string(),
    "text": pa.string(),
    "int64": pa.int64(),
    "integer": pa.int64(),
    "float64": pa.float64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": TIMESTAMP,
    "timestamptz": TIMESTAMP_UTC,
    "time": pa.time64("us"),
    "binary": pa.binary(),
}
_DECIMAL_NAME = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")

# PostgreSQL type OIDs (what psycopg puts in the description) -> Arrow; numeric is handled apart.
_POSTGRES: Final[Mapping[int, pa.DataType]] = {
    16: pa.bool_(),
    17: pa.binary(),
    18: pa.string(),
    19: pa.string(),
    20: pa.int64(),
    21: pa.int64(),
    23: pa.int64(),
    25: pa.string(),
    26: pa.int64(),
    114: pa.string(),
    142: pa.string(),
    700: pa.float64(),
    701: pa.float64(),
    1042: pa.string(),
    1043: pa.string(),
    1082: pa.date32(),
    1083: pa.time64("us"),
    1114: TIMESTAMP,
    1184: TIMESTAMP_UTC,
    1186: pa.duration("us"),
    1266: pa.string(),
    2950: pa.string(),
    3802: pa.string(),
}
_POSTGRES_NUMERIC: Final = 1700
# MySQL/MariaDB field types (pymysql.constants.FIELD_TYPE). Text and binary strings share their codes
# (VARCHAR/VARBINARY, TEXT/BLOB), so those are told apart by their values.
_MYSQL: Final[Mapping[int, pa.DataType]] = {
    1: pa.int64(),
    2: pa.int64(),
    3: pa.int64(),
    4: pa.float64(),
    5: pa.float64(),
    7: TIMESTAMP,
    8: pa.int64(),
    9: pa.int64(),
    10: pa.date32(),
    11: pa.duration("us"),
    12: TIMESTAMP,
    13: pa.int64(),
    14: pa.date32(),
    16: pa.binary(),
    245: pa.string(),
    247: pa.string(),
    248: pa.string(),
    255: pa.binary(),
}
_MYSQL_DECIMALS: Final = (0, 246)
# pymssql's coarse DBAPI type codes: STRING=1, BINARY=2, NUMBER=3, DATETIME=4, DECIMAL=5. NUMBER (int, float
# or bit) and DATETIME (datetime, date or time) are told apart by their values; DECIMAL comes without its
# precision, so it is kept as exact text.
_MSSQL: Final[Mapping[int, pa.DataType]] = {1: pa.string(), 2: pa.binary(), 5: pa.string()}
# python-oracledb DbType names.
_ORACLE: Final[Mapping[str, pa.DataType]] = {
    "DB_TYPE_VARCHAR": pa.string(),
    "DB_TYPE_NVARCHAR": pa.string(),
    "DB_TYPE_CHAR": pa.string(),
    "DB_TYPE_NCHAR": pa.string(),
    "DB_TYPE_LONG": pa.string(),
    "DB_TYPE_LONG_NVARCHAR": pa.string(),
    "DB_TYPE_CLOB": pa.string(),
    "DB_TYPE_NCLOB": pa.string(),
    "DB_TYPE_ROWID": pa.string(),
    "DB_TYPE_UROWID": pa.string(),
    "DB_TYPE_JSON": pa.string(),
    "DB_TYPE_RAW": pa.binary(),
    "DB_TYPE_LONG_RAW": pa.binary(),
    "DB_TYPE_BLOB": pa.binary(),
    "DB_TYPE_BINARY_FLOAT": pa.float64(),
    "DB_TYPE_BINARY_DOUBLE": pa.float64(),
    "DB_TYPE_BINARY_INTEGER": pa.int64(),
    "DB_TYPE_BOOLEAN": pa.bool_(),
    "DB_TYPE_DATE": TIMESTAMP,
    "DB_TYPE_TIMESTAMP": TIMESTAMP,
    "DB_TYPE_TIMESTAMP_TZ": TIMESTAMP_UTC,
    "DB_TYPE_TIMESTAMP_LTZ": TIMESTAMP_UTC,
    "DB_TYPE_INTERVAL_DS": pa.duration("us"),
}


def parse_type(name: str) -> pa.DataType:
    """``"int64"``, ``"timestamp"``, ``"decimal(12,2)"``... (see TYPE_NAMES) as an Arrow type."""
    key = name.strip().lower()
    if key in TYPE_NAMES:
        return TYPE_NAMES[key]
    match = _DECIMAL_NAME.match(key)
    if match and 0 < int(match[1]) <= MAX_DECIMAL_PRECISION and int(match[2]) <= int(match[1]):
        return pa.decimal128(int(match[1]), int(match[2]))
    raise ValueError(
        f"unknown column type {name!r}: use one of {', '.join(TYPE_NAMES)} or decimal(p,s) with p <= 38"
    )


def described_type(dialect: str, column: Sequence[Any]) -> pa.DataType | None:
    """The Arrow type for one column of a DBAPI description, or None when only the values can tell."""
    if len(column) < 2 or column[1] is None:
        return None
    type_code = column[1]
    precision = column[4] if len(column) > 4 else None
    scale = column[5] if len(column) > 5 else None
    if dialect == "postgresql" and isinstance(type_code, int):
        if type_code == _POSTGRES_NUMERIC:
            return _decimal(precision, scale)
        # Array types (e.g. int4[]): kept as JSON text.
        return _POSTGRES.get(type_code, pa.string() if 1000 <= type_code <= 1270 else None)
    if dialect == "mysql" and isinstance(type_code, int):
        if type_code in _MYSQL_DECIMALS:
            return _mysql_decimal(precision, scale)
        return _MYSQL.get(type_code)
    if dialect == "mssql" and isinstance(type_code, int):
        return _MSSQL.get(type_code)
    if dialect == "oracle":
        name = getattr(type_code, "name", None)
        if name == "DB_TYPE_NUMBER":
            return _oracle_number(precision, scale)
        return _ORACLE.get(name) if isinstance(name, str) else None
    return None


def _decimal(precision: Any, scale: Any) -> pa.DataType:
    if isinstance(precision, int) and 0 < precision <= MAX_DECIMAL_PRECISION and isinstance(scale, int):
        return pa.decimal128(precision, max(scale, 0))
    return pa.string()


def _mysql_decimal(length: Any, scale: Any) -> pa.DataType:
    """pymysql reports DECIMAL(p,s) by its display length: p digits, one for the point when s > 0 and one for
    the sign (signed columns). Taking the length minus the point gives p, or p + 1: always enough."""
    if isinstance(length, int) and isinstance(scale, int):
        return _decimal(length - (1 if scale > 0 else 0), scale)
    return pa.string()


def _oracle_number(precision: Any, scale: Any) -> pa.DataType:
    if scale == -127:
        # FLOAT(b) has a binary precision and scale -127; a bare NUMBER has precision 0 and no fixed type.
        return pa.float64() if precision else pa.string()
    if isinstance(precision, int) and isinstance(scale, int) and precision > 0:
        if scale == 0 and precision <= 18:
            return pa.int64()
        return _decimal(precision, scale)
    return pa.string()


def to_text(value: Any) -> str | None:
    """A value as the text kept for columns of type string (JSON for documents and arrays)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str, sort_keys=isinstance(value, dict))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def _stable(inferred: pa.DataType) -> pa.DataType:
    """The type kept for a column inferred from one batch's values: one that later batches can also fit."""
    if pa.types.is_integer(inferred):
        return pa.int64()
    if pa.types.is_floating(inferred):
        return pa.float64()
    if pa.types.is_timestamp(inferred):
        return TIMESTAMP_UTC if inferred.tz else TIMESTAMP
    if pa.types.is_date(inferred):
        return pa.date32()
    if pa.types.is_time(inferred):
        return pa.time64("us")
    if pa.types.is_duration(inferred):
        return pa.duration("us")
    if pa.types.is_boolean(inferred):
        return pa.bool_()
    if pa.types.is_binary(inferred) or pa.types.is_large_binary(inferred):
        return pa.binary()
    # Strings, and what has no fixed shape (decimals of a batch's precision, documents, lists, all nulls).
    return pa.string()


class BatchConverter:
    """Converts the batches of one query result to Arrow tables of one schema, fixed on the first batch."""

    def __init__(
        self,
        dialect: str,
        *,
        overrides: Mapping[str, pa.DataType] | None = None,
        known: pa.Schema | None = None,
    ) -> None:
        self.dialect = dialect
        self.overrides = dict(overrides or {})
        self.known = known
        self.schema: pa.Schema | None = None
        self.invalid_values: dict[str, int] = {}

    def convert(self, batch: RowBatch) -> pa.Table:
        columns = batch.by_column()
        if self.schema is None:
            self.schema = self._fix_schema(batch, columns)
        if list(batch.columns) != self.schema.names:
            raise ConversionError(f"columns changed during the dump: {list(batch.columns)}")
        arrays = [self._array(field, columns[field.name]) for field in self.schema]
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def _fix_schema(self, batch: RowBatch, columns: Mapping[str, Sequence[Any]]) -> pa.Schema:
        unknown = [name for name in self.overrides if name not in batch.columns]
        if unknown:
            raise ConversionError(
                f"column_types names columns the query does not return: {unknown} "
                f"(it returns: {', '.join(batch.columns)})"
            )
        if len(set(batch.columns)) != len(batch.columns):
            raise ConversionError(f"the query returns duplicate column names: {list(batch.columns)}")
        described = dict(zip(batch.columns, batch.description, strict=False))
        fields = []
        for name in batch.columns:
            chosen = self.overrides.get(name)
            if chosen is None and self.known is not None and name in self.known.names:
                chosen = self.known.field(name).type
            if chosen is None and name in described:
                chosen = described_type(self.dialect, described[name])
            if chosen is None:
                chosen = _stable(_infer(columns[name]))
            fields.append(pa.field(name, chosen))
        return pa.schema(fields)

    def _array(self, field: pa.Field, values: Sequence[Any]) -> pa.Array:
        target = field.type
        try:
            return pa.array(values, type=target)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            pass
        if pa.types.is_string(target):
            return pa.array([to_text(value) for value in values], type=target)
        if pa.types.is_timestamp(target) or pa.types.is_date(target):
            return self._temporal(field, values)
        try:
            return pa.array(values).cast(target)
        except (
            pa.ArrowInvalid,
            pa.ArrowTypeError,
            pa.ArrowNotImplementedError,
            TypeError,
            ValueError,
        ) as exc:
            raise ConversionError(f"column {field.name!r} does not fit type {target}: {exc}") from exc

    def _temporal(self, field: pa.Field, values: Sequence[Any]) -> pa.Array:
        """Timestamps or dates from what drivers return (objects or ISO text); invalid values become null."""
        target = field.type
        try:
            # Text columns of ISO dates (SQLite, legacy schemas): converted by Arrow at C speed.
            return pa.array(values, type=pa.string()).cast(target)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            pass
        converted: list[Any] = [coerce_datetime(value) for value in values]
        if pa.types.is_date(target):
            converted = [None if value is None else value.date() for value in converted]
        invalid = sum(
            1 for old, new in zip(values, converted, strict=True) if old is not None and new is None
        )
        if invalid:
            self.invalid_values[field.name] = self.invalid_values.get(field.name, 0) + invalid
        try:
            return pa.array(converted, type=target)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
            raise ConversionError(f"column {field.name!r} does not fit type {target}: {exc}") from exc


def _infer(values: Sequence[Any]) -> pa.DataType:
    sample = [value for value in values if value is not None]
    if not sample or isinstance(sample[0], Decimal | dict | list | tuple):
        return pa.string()
    try:
        return pa.array(sample).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return pa.string()  # mixed types (SQLite's dynamic typing): kept as text
