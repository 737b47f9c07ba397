"""The data lake: Parquet files in Hive partitions under a root URI.

The root is a local directory (default ``./data/lake``) or ``gs://bucket/prefix`` in production, both through
``pyarrow.fs``. Tables live at ``<root>/<dataset>/<table>/ano_particao=YYYY/mes_particao=MM/
data_particao=YYYY-MM-DD[/hora_particao=HH]/<file>.parquet``. Writers choose deterministic file names
(derived from the data's window), so rewriting a window replaces its files instead of adding new ones.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipelines.common.settings import default_lake_uri

_YEAR_DIR = re.compile(r"^ano_particao=(\d{4})$")
_MONTH_DIR = re.compile(r"^mes_particao=(\d{1,2})$")
_DAY_DIR = re.compile(r"^data_particao=(\d{4}-\d{2}-\d{2})$")


class LakeError(RuntimeError):
    """A lake operation that cannot be done as asked."""


@dataclass(frozen=True)
class Partition:
    """One Hive partition: a day, and an hour for hourly tables."""

    day: date
    hour: int | None = None

    @classmethod
    def of(cls, moment: datetime, *, hourly: bool = False) -> Partition:
        return cls(moment.date(), moment.hour if hourly else None)

    @property
    def path(self) -> str:
        day = self.day
        path = f"ano_particao={day.year:04d}/mes_particao={day.month:02d}/data_particao={day.isoformat()}"
        if self.hour is not None:
            if not 0 <= self.hour <= 23:
                raise LakeError(f"hour {self.hour} is not in 0..23")
            path += f"/hora_particao={self.hour:02d}"
        return path


class Lake:
    """A lake root on a ``pyarrow.fs`` filesystem. Paths given to its methods are relative to the root."""

    def __init__(self, filesystem: pafs.FileSystem, root: str, uri: str) -> None:
        self.filesystem = filesystem
        self.root = root.rstrip("/")
        self.uri = uri.rstrip("/")

    @classmethod
    def from_uri(cls, uri: str | None = None) -> Lake:
        """A local path (relative paths are resolved), ``file://...``, or ``gs://bucket/prefix``."""
        uri = uri or default_lake_uri()
        if "://" not in uri:
            local = Path(uri).expanduser().resolve()
            local.mkdir(parents=True, exist_ok=True)
            return cls(pafs.LocalFileSystem(), local.as_posix(), local.as_posix())
        try:
            filesystem, root = pafs.FileSystem.from_uri(uri)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise LakeError(f"cannot open lake URI {uri!r}: {exc}") from exc
        return cls(filesystem, root, uri)

    def path(self, relative: str) -> str:
        relative = relative.strip("/")
        if any(part in ("", ".", "..") for part in relative.split("/")):
            raise LakeError(f"invalid lake path {relative!r}")
        return f"{self.root}/{relative}"

    def display(self, relative: str) -> str:
        """Where a relative path lands, as a URI a person can use."""
        return f"{self.uri}/{relative.strip('/')}"

    def write_parquet(self, table: pa.Table, relative_path: str) -> str:
        """Write ``table`` to ``relative_path`` atomically: readers see the old file or the new one, whole.

        The data goes to a hidden temporary name in the same directory first (Parquet readers skip names
        starting with '.'), then is moved over the final name.
        """
        final = self.path(relative_path)
        directory, _, name = final.rpartition("/")
        if not name.endswith(".parquet"):
            raise LakeError(f"{relative_path!r}: Parquet file names must end with .parquet")
        self.filesystem.create_dir(directory, recursive=True)
        temporary = f"{directory}/.{name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp"
        try:
            with self.filesystem.open_output_stream(temporary) as sink:
                pq.write_table(table, sink)
            self.filesystem.move(temporary, final)
        except BaseException:
            _delete_quietly(self.filesystem, temporary)
            raise
        return final

    def list_files(self, relative_dir: str, *, recursive: bool = False) -> list[str]:
        """Visible files (not starting with '.' or '_') under a directory, as paths relative to the root."""
        return sorted(
            self._relative(info.path)
            for info in self._list(relative_dir, recursive=recursive)
            if info.type == pafs.FileType.File and not _is_hidden(info.base_name)
        )

    def list_dirs(self, relative_dir: str) -> list[str]:
        """Names of the direct subdirectories of a directory (empty if it does not exist)."""
        return sorted(
            info.base_name
            for info in self._list(relative_dir, recursive=False)
            if info.type == pafs.FileType.Directory and not _is_hidden(info.base_name)
        )

    def delete_file(self, relative_path: str) -> None:
        self.filesystem.delete_file(self.path(relative_path))

    def read_schema(self, relative_path: str) -> pa.Schema:
        """The schema of one Parquet file (its footer only)."""
        with self.filesystem.open_input_file(self.path(relative_path)) as source:
            return pq.read_schema(source)

    def read_table(self, relative_dir: str) -> pa.Table:
        """All Parquet files under a directory as one table, Hive partition columns included."""
        dataset = ds.dataset(
            self.path(relative_dir), filesystem=self.filesystem, format="parquet", partitioning="hive"
        )
        return dataset.to_table()

    def _list(self, relative_dir: str, *, recursive: bool) -> list[pafs.FileInfo]:
        selector = pafs.FileSelector(self.path(relative_dir), allow_not_found=True, recursive=recursive)
        return list(self.filesystem.get_file_info(selector))

    def _relative(self, full_path: str) -> str:
        return full_path[len(self.root) + 1 :]


def is_local_uri(uri: str | None = None) -> bool:
    """Whether a lake URI (default: the configured one) is a directory of this machine."""
    uri = uri or default_lake_uri()
    return "://" not in uri or uri.startswith("file://")


def split_by_partition(
    table: pa.Table, time_column: str, *, hourly: bool = False
) -> list[tuple[Partition, pa.Table]]:
    """Rows of ``table`` grouped by the Hive partition of ``time_column`` (zoned timestamps: local time)."""
    if table.num_rows == 0:
        return []
    times = table[time_column]
    if times.null_count:
        raise LakeError(f"column {time_column!r} has {times.null_count} null value(s): cannot partition them")
    key = pc.add(
        pc.multiply(pc.cast(pc.year(times), pa.int64()), 1_000_000),
        pc.add(
            pc.multiply(pc.cast(pc.month(times), pa.int64()), 10_000),
            pc.multiply(pc.cast(pc.day(times), pa.int64()), 100),
        ),
    )
    if hourly:
        key = pc.add(key, pc.cast(pc.hour(times), pa.int64()))
    groups: list[tuple[Partition, pa.Table]] = []
    for value in sorted(pc.unique(key).to_pylist()):
        day = date(value // 1_000_000, value // 10_000 % 100, value // 100 % 100)
        partition = Partition(day, value % 100 if hourly else None)
        groups.append((partition, table.filter(pc.equal(key, value))))
    return groups


def write_partitioned(
    lake: Lake,
    table_dir: str,
    table: pa.Table,
    *,
    time_column: str,
    file_name: str,
    hourly: bool = False,
) -> list[str]:
    """Write ``table`` split into Hive partitions of ``time_column``, one ``file_name`` in each.

    ``file_name`` should name the window the data came from (e.g. the capture minute): writing the same
    window again replaces those files.
    """
    return [
        lake.write_parquet(part, f"{table_dir}/{partition.path}/{file_name}")
        for partition, part in split_by_partition(table, time_column, hourly=hourly)
    ]


def latest_partition_day(lake: Lake, table_dir: str) -> date | None:
    """The newest ``data_particao`` under ``table_dir`` that holds at least one file, if any."""
    for day, day_path in partition_days(lake, table_dir):
        if lake.list_files(day_path, recursive=True):
            return day
    return None


def partition_days(lake: Lake, table_dir: str, *, since: date | None = None) -> Iterator[tuple[date, str]]:
    """``(day, relative dir)`` of the day partitions under ``table_dir``, newest first, down to ``since``.

    Directories are listed lazily, a month at a time, so finding the newest day reads a few listings only.
    """
    for year_dir in _matching_desc(lake.list_dirs(table_dir), _YEAR_DIR):
        if since is not None and int(year_dir.partition("=")[2]) < since.year:
            return
        for month_dir in _matching_desc(lake.list_dirs(f"{table_dir}/{year_dir}"), _MONTH_DIR):
            month_path = f"{table_dir}/{year_dir}/{month_dir}"
            for day_dir in _matching_desc(lake.list_dirs(month_path), _DAY_DIR):
                try:
                    day = date.fromisoformat(day_dir.partition("=")[2])
                except ValueError:
                    continue
                if since is not None and day < since:
                    return
                yield day, f"{month_path}/{day_dir}"


def _matching_desc(names: list[str], pattern: re.Pattern[str]) -> Iterator[str]:
    matching = [(match.group(1), name) for name in names if (match := pattern.match(name))]
    for _, name in sorted(matching, key=lambda item: _sortable(item[0]), reverse=True):
        yield name


def _sortable(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (0, value)


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def _delete_quietly(filesystem: pafs.FileSystem, path: str) -> None:
    with contextlib.suppress(OSError, pa.ArrowException):
        filesystem.delete_file(path)
