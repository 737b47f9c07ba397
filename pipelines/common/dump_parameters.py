"""The generic dump's parameters (the fields of a dump flow's signature), checked each on its own."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError

from pipelines.common.arrow_types import parse_type
from pipelines.common.db import DRIVERS, DatabaseUrlError, database_url, safe_url
from pipelines.common.settings import RIO_TZ

DumpMode = Literal["overwrite", "append", "incremental"]
DUMP_MODES: Final[tuple[str, ...]] = get_args(DumpMode)
RELATIVE_DATES: Final = ("current_day", "previous_day", "current_month", "previous_month", "current_year")
# Plain SQL identifiers only: these are written into the SQL the dump builds.
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$#]*$")
_SOURCE_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$#]*(?:\.[A-Za-z_][A-Za-z0-9_$#]*){0,2}$")
_LAKE_NAME = re.compile(r"^[A-Za-z0-9_]+$")


class DumpError(RuntimeError):
    """A dump that cannot go on; what it wrote before stays in the lake."""


@dataclass(frozen=True)
class DumpParameters:
    """What to dump and how: the parameters of a dump flow (one schedule per table in prefect.yaml)."""

    table_id: str
    dataset_id: str
    query: str | None = None
    source_table: str | None = None
    dump_mode: str = "overwrite"
    partition_column: str | None = None
    partition_date_format: str | None = None
    lower_bound_date: str | None = None
    batch_size: int = 50_000
    database_url: str | None = None
    db_type: str | None = None
    db_host: str | None = None
    db_port: int | None = None
    db_database: str | None = None
    db_charset: str | None = None
    db_credentials: str | None = None
    column_types: Mapping[str, str] | None = None
    id_column: str | None = None
    run_key: str | None = None
    lake_uri: str | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> DumpParameters:
        """From a flow's parameters; unknown names are refused with the accepted ones."""
        names = [item.name for item in fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise DumpError(f"unknown dump parameter(s) {unknown}: the dump accepts {', '.join(names)}")
        return cls(**values)

    @property
    def query_name(self) -> str:
        return self.query or self.table_id

    @property
    def table_dir(self) -> str:
        return f"{self.dataset_id}/{self.table_id}"

    def problems(self, today: date | None = None) -> list[str]:
        """Everything wrong with the parameters, each on its own (empty when the dump can start)."""
        found: list[str] = []
        for name in ("table_id", "dataset_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _LAKE_NAME.match(value):
                found.append(f"{name} {value!r}: use letters, digits and _ only (it names a lake directory)")
        if self.dump_mode not in DUMP_MODES:
            found.append(f"dump_mode {self.dump_mode!r}: use one of {', '.join(DUMP_MODES)}")
        if self.dump_mode == "incremental" and not self.partition_column:
            found.append(
                "dump_mode 'incremental' needs partition_column (the date column whose newest day in the "
                "lake is where the next run starts)"
            )
        for name in ("partition_column", "id_column"):
            value = getattr(self, name)
            if value is not None and not _COLUMN.match(value):
                found.append(f"{name} {value!r}: use one plain column name (letters, digits, _)")
        if self.partition_date_format is not None and not self.partition_column:
            found.append("partition_date_format is set but partition_column is not")
        if self.lower_bound_date is not None:
            if not self.partition_column:
                found.append("lower_bound_date needs partition_column (the column it is compared with)")
            try:
                resolve_date(self.lower_bound_date, today or rio_today(), self.partition_date_format)
            except ValueError as error:
                found.append(str(error))
        if self.query is not None and self.source_table is not None:
            found.append("give query (a queries/<name>.sql file) or source_table, not both")
        if self.source_table is not None and not _SOURCE_TABLE.match(self.source_table):
            found.append(f"source_table {self.source_table!r}: use [database.][schema.]table")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            found.append(f"batch_size {self.batch_size!r}: use a whole number of rows, at least 1")
        found.extend(self._connection_problems())
        for column, type_name in (self.column_types or {}).items():
            try:
                parse_type(type_name)
            except ValueError as error:
                found.append(f"column_types[{column!r}]: {error}")
        return found

    def _connection_problems(self) -> list[str]:
        parts = {"db_type": self.db_type, "db_host": self.db_host}
        if self.database_url and any(value is not None for value in (*parts.values(), self.db_database)):
            return ["give database_url or db_type/db_host/db_port/db_database, not both"]
        if self.database_url:
            try:
                sa.make_url(self.database_url)
            except ArgumentError:
                return [f"database_url {safe_text(self.database_url)!r} is not a SQLAlchemy URL"]
            return []
        if not any(parts.values()):
            return []
        missing = [name for name, value in parts.items() if not value]
        if missing:
            return [f"{' and '.join(missing)} missing (db_type is one of {', '.join(sorted(DRIVERS))})"]
        try:
            self.connection_url()
        except DatabaseUrlError as error:
            return [str(error)]
        return []

    def connection_url(self) -> str | None:
        """The SQLAlchemy URL to read from (credentials come from ``db_credentials``), None if not given."""
        if self.database_url:
            return self.database_url
        if self.db_type or self.db_host:
            return database_url(
                self.db_type or "", self.db_host or "", self.db_port, self.db_database, self.db_charset
            )
        return None


def rio_today() -> date:
    return datetime.now(RIO_TZ).date()


def resolve_date(value: str, today: date, date_format: str | None = None) -> date:
    """An ISO date (or one in ``date_format``), or one of RELATIVE_DATES counted from ``today``."""
    text = value.strip()
    relative = {
        "current_day": today,
        "previous_day": today - timedelta(days=1),
        "current_month": today.replace(day=1),
        "previous_month": (today.replace(day=1) - timedelta(days=1)).replace(day=1),
        "current_year": today.replace(month=1, day=1),
    }
    if text in relative:
        return relative[text]
    for parse in (date.fromisoformat, lambda raw: datetime.strptime(raw, date_format or "%Y-%m-%d").date()):
        try:
            return parse(text)
        except ValueError:
            continue
    raise ValueError(
        f"lower_bound_date {value!r}: use a date (2024-01-31) or one of {', '.join(RELATIVE_DATES)}"
    )


def read_start(mode: str, watermark: date | None, lower_bound: date | None) -> date | None:
    """The first day the query reads: the newest of the watermark (incremental only) and the lower bound."""
    candidates = [day for day in (watermark if mode == "incremental" else None, lower_bound) if day]
    return max(candidates) if candidates else None


def safe_text(url: str) -> str:
    try:
        return safe_url(url)
    except ArgumentError:
        return "<not a URL>"
