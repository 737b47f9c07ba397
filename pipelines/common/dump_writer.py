"""Writing a dumped table to the lake: numbered Parquet parts per day partition (or per table), rewritable.

A file's name says what it holds: ``<stem>_part<NNNNN>.parquet`` where the stem is ``<table>_<day>`` in a day
partition (``<table>`` unpartitioned), plus ``_<run key>`` in append mode. Rows are cut into parts of
``rows_per_file`` in arrival order, so the same rows read again give the same names and contents: a rerun
replaces its files instead of adding new ones, and then deletes the parts of that stem it did not rewrite.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import date, datetime

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.common.arrow_types import TIMESTAMP
from pipelines.common.db import coerce_datetime
from pipelines.common.dump_parameters import DumpError
from pipelines.common.lake import Lake, Partition
from pipelines.common.settings import RIO_TZ


class PartWriter:
    """Writes one table's rows, grouped by day (or ``None`` when unpartitioned), as numbered parts.

    Rows ideally arrive in day order (the dump's query orders them): a day is finished, its stale parts
    deleted, as soon as the next one starts, so a failing run keeps every day completed before. A day seen
    again later is reopened and continues its numbering: correct, with more (smaller) files.
    """

    def __init__(
        self, lake: Lake, table_dir: str, table_name: str, rows_per_file: int, run_key: str | None = None
    ) -> None:
        if rows_per_file < 1:
            raise ValueError("rows_per_file must be at least 1")
        self.lake = lake
        self.table_dir = table_dir
        self.table_name = table_name
        self.rows_per_file = rows_per_file
        self.run_key = run_key
        self.days: list[date] = []
        self.written: set[str] = set()
        self.rows_written = 0
        self.stale_files_deleted = 0
        self.reopened = 0
        self._next_part: dict[date | None, int] = {}
        self._key: date | None = None
        self._open = False
        self._buffer: list[pa.Table] = []
        self._buffered = 0

    @property
    def files_written(self) -> int:
        return len(self.written)

    def directory(self, day: date | None) -> str:
        return self.table_dir if day is None else f"{self.table_dir}/{Partition(day).path}"

    def stem(self, day: date | None) -> str:
        stem = self.table_name if day is None else f"{self.table_name}_{day.isoformat()}"
        return f"{stem}_{self.run_key}" if self.run_key else stem

    def file_name(self, day: date | None, part: int) -> str:
        return f"{self.stem(day)}_part{part:05d}.parquet"

    def add(self, day: date | None, rows: pa.Table) -> None:
        if self._open and day != self._key:
            self._finish()
        if not self._open:
            self._key, self._open = day, True
            if day in self._next_part:
                self.reopened += 1
            else:
                self._next_part[day] = 0
                if day is not None:
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
        if self._open:
            self._finish()

    def _write_part(self, rows: pa.Table) -> None:
        day = self._key
        part = self._next_part[day]
        relative = f"{self.directory(day)}/{self.file_name(day, part)}"
        self.lake.write_parquet(rows.combine_chunks(), relative)
        self._next_part[day] = part + 1
        self.written.add(relative)
        self.rows_written += rows.num_rows

    def _finish(self) -> None:
        day = self._key
        if self._buffered:
            self._write_part(pa.concat_tables(self._buffer))
        pattern = re.compile(rf"^{re.escape(self.stem(day))}_part(\d+)\.parquet$")
        for path in self.lake.list_files(self.directory(day)):
            match = pattern.match(path.rpartition("/")[2])
            if match and int(match.group(1)) >= self._next_part[day]:
                self.lake.delete_file(path)
                self.stale_files_deleted += 1
        self._open = False
        self._buffer = []
        self._buffered = 0


def split_days(table: pa.Table, days: pa.Array) -> Iterator[tuple[date, pa.Table]]:
    """Rows of ``table`` by their day in ``days`` (date32, no nulls): in order of appearance when the rows
    are sorted by day (one slice per day, no copy), else grouped day by day in ascending order."""
    if table.num_rows == 0:
        return
    runs = pc.run_end_encode(days)
    values: list[date] = runs.values.to_pylist()
    if all(earlier < later for earlier, later in itertools.pairwise(values)):
        start = 0
        for end, day in zip(runs.run_ends.to_pylist(), values, strict=True):
            yield day, table.slice(start, end - start)
            start = end
        return
    for day in sorted(set(values)):
        yield day, table.filter(pc.equal(days, pa.scalar(day, pa.date32())))


def partition_days_of(column: pa.Array | pa.ChunkedArray, name: str, date_format: str | None) -> pa.Array:
    """The day partition of each row (date32; null where the value is missing or not a date)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = array.type
    if pa.types.is_timestamp(kind):
        if kind.tz is not None:
            array = pc.local_timestamp(array.cast(pa.timestamp(kind.unit, tz=str(RIO_TZ))))
        return pc.cast(array, pa.date32())
    if pa.types.is_date(kind):
        return pc.cast(array, pa.date32())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        if date_format is None:
            try:
                return pc.cast(pc.cast(array, TIMESTAMP), pa.date32())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        return pa.array([_text_day(value, date_format) for value in array.to_pylist()], type=pa.date32())
    raise DumpError(
        f"partition_column {name!r} holds {kind} values: it must hold dates or timestamps "
        "(or dates as text, with partition_date_format)"
    )


def _text_day(value: str | None, date_format: str | None) -> date | None:
    if value is None:
        return None
    if date_format is not None:
        try:
            return datetime.strptime(value.strip(), date_format).date()
        except ValueError:
            pass
    moment = coerce_datetime(value)
    return moment.date() if moment is not None else None
