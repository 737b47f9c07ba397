"""Tasks of the 1746 dump: watermark from the lake, streamed read, day partitions written as they complete."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import SQLAlchemyError

from pipelines.common.db import (
    ConversionError,
    RowBatch,
    coerce_datetime,
    create_engine,
    gc_paused,
    read_query,
    safe_url,
    stream_batches,
    to_arrow,
)
from pipelines.common.lake import Lake, Partition, latest_partition_day
from pipelines.common.logs import run_logger
from pipelines.rj_segovi__dump_db_1746.sample_db import ensure_sample_database

PACKAGE: Final = __name__.rpartition(".")[0]
DEFAULT_DATASET_ID: Final = "brutos_1746"
FULL_LOAD_SINCE: Final = datetime(1900, 1, 1)
MAX_REJECTED_IDS: Final = 20


class DumpError(RuntimeError):
    """A dump that cannot go on; what it wrote before stays in the lake."""


@dataclass(frozen=True)
class TableSpec:
    name: str
    schema: pa.Schema
    id_column: str
    partition_column: str
    timestamp_columns: tuple[str, ...]


TABLES: Final = {
    "chamado": TableSpec(
        name="chamado",
        schema=pa.schema(
            [
                pa.field("id_chamado", pa.int64(), nullable=False),
                pa.field("data_inicio", pa.timestamp("us")),
                pa.field("data_fim", pa.timestamp("us")),
                pa.field("bairro", pa.string()),
                pa.field("categoria", pa.string()),
                pa.field("tipo", pa.string()),
                pa.field("subtipo", pa.string()),
                pa.field("status", pa.string()),
                pa.field("canal", pa.string()),
                pa.field("latitude", pa.float64()),
                pa.field("longitude", pa.float64()),
            ]
        ),
        id_column="id_chamado",
        partition_column="data_inicio",
        timestamp_columns=("data_inicio", "data_fim"),
    ),
}


def table_spec(table: str) -> TableSpec:
    try:
        return TABLES[table]
    except KeyError:
        raise DumpError(f"unknown table {table!r}: this pipeline dumps {', '.join(sorted(TABLES))}") from None


@dataclass(frozen=True)
class DumpResult:
    table: str
    destination: str
    since: date | None
    rows_read: int
    rows_written: int
    rows_rejected: int
    invalid_values: int
    days_written: tuple[date, ...]
    files_written: int
    stale_files_deleted: int
    rejected_ids: tuple[int, ...] = field(default=())


class DailyPartWriter:
    """Writes one table's rows, arriving in day order, as ``<table>_<day>_part<NNNNN>.parquet`` per day.

    A day's rows are cut into files of ``rows_per_file`` in arrival order, so the same day read again gives
    the same file names and contents: rewriting replaces them. When a day is complete, its files from an
    earlier run that this run did not rewrite (the day had more parts then) are deleted.
    """

    def __init__(self, lake: Lake, table_dir: str, table_name: str, rows_per_file: int) -> None:
        if rows_per_file < 1:
            raise ValueError("rows_per_file must be at least 1")
        self.lake = lake
        self.table_dir = table_dir
        self.table_name = table_name
        self.rows_per_file = rows_per_file
        self.days: list[date] = []
        self.rows_written = 0
        self.files_written = 0
        self.stale_files_deleted = 0
        self._day: date | None = None
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._next_part = 0

    def file_name(self, day: date, part: int) -> str:
        return f"{self.table_name}_{day.isoformat()}_part{part:05d}.parquet"

    def add(self, day: date, rows: pa.Table) -> None:
        if self._day is not None and day != self._day:
            if day < self._day:
                raise DumpError(
                    f"rows of {day} arrived after rows of {self._day}: the query must order rows by the "
                    "partition column"
                )
            self._finish_day()
        if self._day is None:
            self._day = day
            self.days.append(day)
        self._buffer.append(rows)
        self._buffered += rows.num_rows
        while self._buffered >= self.rows_per_file:
            buffered = pa.concat_tables(self._buffer)
            self._write_part(buffered.slice(0, self.rows_per_file))
            rest = buffered.slice(self.rows_per_file)
            self._buffer = [rest] if rest.num_rows else []
            self._buffered = rest.num_rows

    def close(self) -> None:
        if self._day is not None:
            self._finish_day()

    def _write_part(self, rows: pa.Table) -> None:
        assert self._day is not None
        day_dir = f"{self.table_dir}/{Partition(self._day).path}"
        self.lake.write_parquet(
            rows.combine_chunks(), f"{day_dir}/{self.file_name(self._day, self._next_part)}"
        )
        self._next_part += 1
        self.files_written += 1
        self.rows_written += rows.num_rows

    def _finish_day(self) -> None:
        assert self._day is not None
        if self._buffered:
            self._write_part(pa.concat_tables(self._buffer))
        day_dir = f"{self.table_dir}/{Partition(self._day).path}"
        pattern = re.compile(rf"^{re.escape(self.table_name)}_{self._day.isoformat()}_part(\d+)\.parquet$")
        for path in self.lake.list_files(day_dir):
            match = pattern.match(path.rpartition("/")[2])
            if match and int(match.group(1)) >= self._next_part:
                self.lake.delete_file(path)
                self.stale_files_deleted += 1
        self._day = None
        self._buffer = []
        self._buffered = 0
        self._next_part = 0


@dataclass(frozen=True)
class PreparedBatch:
    table: pa.Table
    rejected_ids: list[int]
    invalid_values: int


def prepare_batch(batch: RowBatch, spec: TableSpec) -> PreparedBatch:
    """Typed rows of a batch; rows whose partition date is missing or not a date are rejected.

    Other timestamp columns holding something that is not a date become null (counted as invalid values).
    """
    columns: dict[str, Sequence[Any] | pa.Array] = dict(batch.by_column())
    invalid_values = 0
    for name in spec.timestamp_columns:
        raw = columns[name]
        try:
            # Drivers with a timestamp type return datetimes: Arrow converts them at C speed.
            columns[name] = pa.array(raw, type=spec.schema.field(name).type)
            continue
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
        converted = [coerce_datetime(value) for value in raw]
        if name != spec.partition_column:
            invalid_values += sum(
                1 for old, new in zip(raw, converted, strict=True) if old is not None and new is None
            )
        columns[name] = converted
    table = to_arrow(columns, spec.schema)
    valid = pc.is_valid(table[spec.partition_column])
    if table[spec.partition_column].null_count == 0:
        return PreparedBatch(table, [], invalid_values)
    rejected = table.filter(pc.invert(valid))[spec.id_column].to_pylist()
    return PreparedBatch(table.filter(valid), rejected, invalid_values)


def split_sorted_days(table: pa.Table, column: str) -> Iterator[tuple[date, pa.Table]]:
    """Consecutive runs of rows with the same day of ``column`` (rows sorted by it), in order."""
    if table.num_rows == 0:
        return
    days = pc.cast(table[column], pa.date32()).combine_chunks()
    runs = pc.run_end_encode(days)
    start = 0
    for end, day in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
        yield day, table.slice(start, end - start)
        start = end


def table_dir(dataset_id: str, table: str) -> str:
    return f"{dataset_id}/{table}"


def dump_table_to_lake(
    database_url: str,
    table: str,
    *,
    lake_uri: str,
    since: date | None,
    batch_size: int = 50_000,
    dataset_id: str = DEFAULT_DATASET_ID,
    secret_path: str | None = None,
) -> DumpResult:
    """Stream rows started on or after ``since`` (everything if None) into the lake's day partitions."""
    logger = run_logger(__name__)
    spec = table_spec(table)
    sql = read_query(PACKAGE, spec.name)
    lake = Lake.from_uri(lake_uri)
    directory = table_dir(dataset_id, spec.name)
    writer = DailyPartWriter(lake, directory, spec.name, rows_per_file=batch_size)
    since_time = datetime.combine(since, time.min) if since is not None else FULL_LOAD_SINCE
    engine = create_engine(database_url, secret_path=secret_path)
    # sqlite3 has no timestamp type: compare with the ISO text that SQLite databases store.
    since_param: datetime | str = (
        since_time.isoformat(sep=" ") if engine.dialect.name == "sqlite" else since_time
    )
    rows_read = rows_rejected = invalid_values = 0
    rejected_ids: list[int] = []
    logger.info(
        "Dumping %s from %s since %s into %s",
        spec.name,
        safe_url(database_url),
        since_time,
        lake.display(directory),
    )
    try:
        with gc_paused():
            for batch in stream_batches(engine, sql, {"since": since_param}, batch_size=batch_size):
                rows_read += len(batch)
                prepared = prepare_batch(batch, spec)
                invalid_values += prepared.invalid_values
                if prepared.rejected_ids:
                    rows_rejected += len(prepared.rejected_ids)
                    rejected_ids.extend(prepared.rejected_ids[: MAX_REJECTED_IDS - len(rejected_ids)])
                    logger.warning(
                        "Rejected %d row(s) whose %s is not a valid date, e.g. %s %s",
                        len(prepared.rejected_ids),
                        spec.partition_column,
                        spec.id_column,
                        prepared.rejected_ids[:5],
                    )
                for day, rows in split_sorted_days(prepared.table, spec.partition_column):
                    writer.add(day, rows)
            writer.close()
    except (SQLAlchemyError, ConversionError) as exc:
        raise DumpError(
            f"dumping {spec.name} from {safe_url(database_url)} failed after reading {rows_read} row(s); the "
            f"days written before stay in the lake: {getattr(exc, 'orig', None) or exc}"
        ) from exc
    finally:
        engine.dispose()
    result = DumpResult(
        table=spec.name,
        destination=lake.display(directory),
        since=since,
        rows_read=rows_read,
        rows_written=writer.rows_written,
        rows_rejected=rows_rejected,
        invalid_values=invalid_values,
        days_written=tuple(writer.days),
        files_written=writer.files_written,
        stale_files_deleted=writer.stale_files_deleted,
        rejected_ids=tuple(rejected_ids),
    )
    logger.info(
        "Read %d row(s), wrote %d in %d file(s) over %d day(s), rejected %d",
        result.rows_read,
        result.rows_written,
        result.files_written,
        len(result.days_written),
        result.rows_rejected,
    )
    return result


@task(cache_policy=NO_CACHE)
def prepare_sample_database() -> str:
    url = ensure_sample_database()
    run_logger(__name__).info("No database_url given: using the local sample database %s", url)
    return url


@task(cache_policy=NO_CACHE)
def read_watermark(lake_uri: str, dataset_id: str, table: str) -> date | None:
    """The newest day partition already in the lake; the dump re-reads that day whole (it may be partial)."""
    watermark = latest_partition_day(Lake.from_uri(lake_uri), table_dir(dataset_id, table_spec(table).name))
    run_logger(__name__).info("Watermark of %s/%s: %s", dataset_id, table, watermark or "none (full load)")
    return watermark


@task(cache_policy=NO_CACHE)
def dump_table(
    database_url: str,
    table: str,
    *,
    lake_uri: str,
    since: date | None,
    batch_size: int,
    dataset_id: str,
    secret_path: str | None,
) -> DumpResult:
    return dump_table_to_lake(
        database_url,
        table,
        lake_uri=lake_uri,
        since=since,
        batch_size=batch_size,
        dataset_id=dataset_id,
        secret_path=secret_path,
    )
