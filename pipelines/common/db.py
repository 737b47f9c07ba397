"""Reading SQL databases through SQLAlchemy: engines, queries kept in ``.sql`` files, streamed batches."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any, Final

import pyarrow as pa
import sqlalchemy as sa

from pipelines.common.secrets import get_database_credentials


class QueryNotFoundError(FileNotFoundError):
    """A query name with no ``queries/<name>.sql`` file in the pipeline's package."""


class ConversionError(ValueError):
    """Values of a column that do not fit the column's Arrow type."""


class DatabaseUrlError(ValueError):
    """Connection parameters that do not make a database URL."""


# The city's `db_type` names (and SQLAlchemy's own backend names) -> the driver pinned in 3rdparty/python.
DRIVERS: Final = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "sql_server": "mssql+pymssql",
    "mssql": "mssql+pymssql",
    "oracle": "oracle+oracledb",
}
# Oracle's driver fetches `arraysize` rows per round trip (its default, 100, is slow for bulk reads).
MAX_ORACLE_ARRAYSIZE: Final = 10_000


def database_url(
    db_type: str, host: str, port: int | None = None, database: str | None = None, charset: str | None = None
) -> str:
    """A SQLAlchemy URL (no credentials) from the parts the city's dump deployments give.

    ``db_type`` is one of ``DRIVERS`` (``sql_server``, ``oracle``, ``mysql``, ``postgres``, ...). For Oracle,
    ``database`` is the service name; ``charset`` is passed to MySQL/MariaDB and SQL Server's drivers.
    """
    drivername = DRIVERS.get(db_type.strip().lower())
    if drivername is None:
        raise DatabaseUrlError(f"unknown db_type {db_type!r}: use one of {', '.join(sorted(DRIVERS))}")
    if not host:
        raise DatabaseUrlError("db_host is empty")
    query: dict[str, str] = {}
    if drivername.startswith("oracle") and database:
        query["service_name"] = database
        database = None
    if charset and drivername.startswith(("mysql", "mssql")):
        query["charset"] = charset
    url = sa.URL.create(drivername, host=host, port=port, database=database or None, query=query)
    return url.render_as_string(hide_password=False)


def create_engine(url: str, *, secret_path: str | None = None, batch_size: int | None = None) -> sa.Engine:
    """An engine for any SQLAlchemy URL.

    With ``secret_path``, the username and password come from ``<SECRET_PATH>__DB_USERNAME`` and
    ``<SECRET_PATH>__DB_PASSWORD`` instead of the URL, so deployments can keep credentials out of parameters.
    ``batch_size`` tunes drivers that fetch a fixed number of rows per round trip (Oracle) for bulk reads.
    """
    parsed = sa.make_url(url)
    if secret_path is not None:
        username, password = get_database_credentials(secret_path)
        parsed = parsed.set(username=username, password=password)
    options: dict[str, Any] = {}
    if batch_size is not None and parsed.get_backend_name() == "oracle":
        options["arraysize"] = max(1, min(batch_size, MAX_ORACLE_ARRAYSIZE))
    return sa.create_engine(parsed, pool_pre_ping=True, **options)


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


def query_names(package: str) -> list[str]:
    """Names of the ``queries/*.sql`` files of a package, sorted (empty if it has none)."""
    directory = resources.files(package).joinpath("queries")
    if not directory.is_dir():
        return []
    return sorted(item.name[: -len(".sql")] for item in directory.iterdir() if item.name.endswith(".sql"))


@dataclass(frozen=True)
class RowBatch:
    columns: tuple[str, ...]
    rows: Sequence[Sequence[Any]]
    # The DBAPI cursor's description (name, type_code, display_size, internal_size, precision, scale, null_ok)
    # per column, when the driver gives one: what the column types are, before any value is seen.
    description: tuple[tuple[Any, ...], ...] = ()

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

    The result is streamed (a server-side cursor where the driver has one: PostgreSQL, MySQL/MariaDB; SQL
    Server's driver reads rows off the connection as they are fetched; Oracle's fetches ``arraysize`` rows per
    round trip, see ``create_engine``), so memory stays bounded by the batch size whatever the result's size.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=batch_size).execute(sa.text(sql), dict(params or {}))
        columns = tuple(result.keys())
        description = tuple(tuple(column) for column in (result.cursor.description or ()))
        for partition in result.partitions(batch_size):
            yield RowBatch(columns, partition, description)


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
