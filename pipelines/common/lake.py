"""The data lake: Parquet files in Hive partitions under a root URI.

The root is a local directory (default ``./data/lake``) or ``gs://bucket/prefix`` in production, both through
``pyarrow.fs``. Tables live at ``<root>/<dataset>/<table>/ano_particao=YYYY/mes_particao=MM/
data_particao=YYYY-MM-DD[/hora_particao=HH]/<file>.parquet``. Writers choose deterministic file names
(derived from the data's window), so rewriting a window replaces its files instead of adding new ones.

GCS is not a disk (docs/lake.md): an object appears whole when its upload completes, but an upload that
fails after it began may still leave the bytes written so far as an object, and "move" is a server-side
copy then a delete. So every file is written under a hidden temporary name (readers skip names starting
with '.') and copied over its final name, which readers see replaced at once; a temporary a crash left
behind is removed by the next write of that file. GCS has no directories either: a partition exists when a
file is in it, and partitions are found from one listing of the table's files.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipelines.common.settings import GCS_ENDPOINT_ENV, default_lake_uri

_YEAR_DIR = re.compile(r"^ano_particao=(\d{4})$")
_MONTH_DIR = re.compile(r"^mes_particao=(\d{1,2})$")
_DAY_DIR = re.compile(r"^data_particao=(\d{4}-\d{2}-\d{2})$")
_PARTITION_DIRS = (_YEAR_DIR, _MONTH_DIR, _DAY_DIR)
# Temporary files of a write are ``.<final name>.<pid>-<random>.tmp``.
_TEMPORARY_PREFIX = ".{name}."


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
            if uri.startswith("gs://"):
                filesystem: pafs.FileSystem = pafs.GcsFileSystem(**gcs_options())
                root = uri[len("gs://") :].strip("/")
                if not root:
                    raise pa.ArrowInvalid("no bucket in the URI")
            else:
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
        starting with '.'), then is moved over the final name: a rename on a disk, a server-side copy (the
        final object replaced at once) then a delete on GCS. Temporaries of this file that an earlier
        crash left behind are deleted once the new file is in place.
        """
        final = self.path(relative_path)
        directory, _, name = final.rpartition("/")
        if not name.endswith(".parquet"):
            raise LakeError(f"{relative_path!r}: Parquet file names must end with .parquet")
        if self.is_local:
            self.filesystem.create_dir(directory, recursive=True)  # an object store needs no directories
        unique = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        temporary = f"{directory}/{_TEMPORARY_PREFIX.format(name=name)}{unique}.tmp"
        try:
            with self.filesystem.open_output_stream(temporary) as sink:
                pq.write_table(table, sink)
            self.filesystem.move(temporary, final)
        except BaseException:
            _delete_quietly(self.filesystem, temporary)
            raise
        self._delete_leftovers(directory, name)
        return final

    @property
    def is_local(self) -> bool:
        return isinstance(self.filesystem, pafs.LocalFileSystem)

    def _delete_leftovers(self, directory: str, name: str) -> None:
        prefix = _TEMPORARY_PREFIX.format(name=name)
        selector = pafs.FileSelector(directory, allow_not_found=True)
        for info in self.filesystem.get_file_info(selector):
            if info.type == pafs.FileType.File and info.base_name.startswith(prefix):
                _delete_quietly(self.filesystem, info.path)

    def list_files(self, relative_dir: str, *, recursive: bool = False) -> list[str]:
        """Visible files (not starting with '.' or '_') under a directory, as paths relative to the root."""
        return sorted(
            self._relative(info.path)
            for info in self._list(relative_dir, recursive=recursive)
            if info.type == pafs.FileType.File and not _is_hidden(info.base_name)
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
    newest = next(partition_days(lake, table_dir), None)
    return newest[0] if newest else None


def partition_days(lake: Lake, table_dir: str, *, since: date | None = None) -> Iterator[tuple[date, str]]:
    """``(day, relative dir)`` of the day partitions holding files under ``table_dir``, newest first, down
    to ``since``.

    Found from one recursive listing of the table's visible files: an object store has no directories, only
    objects whose names share a prefix, so a partition is where a file is (one listing request per thousand
    files on GCS). Directories that do not read as a partition (or as a real date) are ignored.
    """
    prefix = f"{table_dir.strip('/')}/"
    days: dict[date, str] = {}
    for path in lake.list_files(table_dir, recursive=True):
        parts = path[len(prefix) :].split("/")
        if len(parts) < 4:
            continue
        year, month, day = (
            pattern.match(part) for pattern, part in zip(_PARTITION_DIRS, parts, strict=False)
        )
        if year is None or month is None or day is None:
            continue
        try:
            found = date.fromisoformat(day.group(1))
        except ValueError:
            continue
        if (found.year, found.month) == (int(year.group(1)), int(month.group(1))):
            days.setdefault(found, prefix + "/".join(parts[:3]))
    for found in sorted(days, reverse=True):
        if since is not None and found < since:
            return
        yield found, days[found]


def gcs_options(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Options of the lake's ``GcsFileSystem``: Google's defaults (the job's service account); in tests,
    ``$PIPELINES_GCS_ENDPOINT_OVERRIDE`` (``http://127.0.0.1:<port>``) points them at a local server."""
    override = (os.environ if environ is None else environ).get(GCS_ENDPOINT_ENV, "").strip()
    if not override:
        return {}
    parts = urlsplit(override if "://" in override else f"http://{override}")
    return {"anonymous": True, "scheme": parts.scheme or "http", "endpoint_override": parts.netloc}


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def _delete_quietly(filesystem: pafs.FileSystem, path: str) -> None:
    with contextlib.suppress(OSError, pa.ArrowException):
        filesystem.delete_file(path)
