"""Reading SQL databases through SQLAlchemy: engines, queries kept in ``.sql`` files, streamed batches."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from pipelines.common.secrets import get_database_credentials


class QueryNotFoundError(FileNotFoundError):
    """A query name with no ``queries/<name>.sql`` file in the pipeline's package."""


class ConversionError(ValueError):
    """Values of a column that do not fit the column's Arrow type."""


def create_engine(url: str, *, secret_path: str | None = None) -> sa.Engine:
    """An engine for any SQLAlchemy URL.

    With ``secret_path``, the username and password come from ``<SECRET_PATH>__DB_USERNAME`` and
    ``<SECRET_PATH>__DB_PASSWORD`` instead of the URL, so deployments can keep credentials out of parameters.
    """
    parsed = sa.make_url(url)
    if secret_path is not None:
        username, password = get_database_credentials(secret_path)
        parsed = parsed.set(username=username, password=password)
    return sa.create_engine(parsed, pool_pre_ping=True)


def safe_url(url: str) -> str:
    """The URL with its password masked, for logs and error messages."""
    return sa.make_url(url).render_as_string(hide_password=True)


def read_query(package: str, name: str) -> str:
    """The text of ``<package dir>/queries/<name>.sql`` (a package resource, so it also works from a pex)."""
    resource = resources.files(package).joinpath("queries", f"{name}.sql")
    try:
        return resource.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise QueryNotFoundError(f"no query file queries/{name}.sql in package {package}") from exc


@dataclass(frozen=True)
class RowBatch:
    columns: tuple[str, ...]
    rows: Sequence[Sequence[Any]]

    def __len__(self) -> int:
        return len(self.rows)

    def by_column(self) -> dict[str, Sequence[Any]]:
        if not self.rows:
            return {name: () for name in self.columns}
        return dict(zip(self.columns, zip(*self.rows, strict=True), strict=True))


def stream_batches(
    engine: sa.Engine, sql: str, params: Mapping[str, Any] | None = None, *, batch_size: int = 50_000
) -> Iterator[RowBatch]:
    """Run ``sql`` and yield its rows in batches of at most ``batch_size``.

    The result is streamed (a server-side cursor where the driver has one), so memory stays bounded by the
    batch size whatever the result's size.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=batch_size).execute(sa.text(sql), dict(params or {}))
        columns = tuple(result.keys())
        for partition in result.partitions(batch_size):
            yield RowBatch(columns, partition)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk read.

    Streaming creates millions of short-lived row objects without reference cycles, which reference counting
    frees anyway; meanwhile every full collection walks all the objects of the process (Prefect's included),
    which cost about 40% of the dump's time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def to_arrow(columns: Mapping[str, Sequence[Any] | pa.Array], schema: pa.Schema) -> pa.Table:
    """A table of ``schema`` from column values or ready arrays; fails naming the column that does not fit."""
    missing = [name for name in schema.names if name not in columns]
    extra = [name for name in columns if name not in schema.names]
    if missing or extra:
        raise ConversionError(f"columns do not match the schema: missing {missing}, unexpected {extra}")
    arrays = []
    for field in schema:
        values = columns[field.name]
        try:
            if isinstance(values, pa.Array):
                arrays.append(values if values.type == field.type else values.cast(field.type))
            else:
                arrays.append(pa.array(values, type=field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
            raise ConversionError(f"column {field.name!r} does not fit type {field.type}: {exc}") from exc
    return pa.Table.from_arrays(arrays, schema=schema)


def coerce_datetime(value: Any) -> datetime | None:
    """A naive ``datetime`` from what drivers return for timestamps (objects or ISO text); None if invalid."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
