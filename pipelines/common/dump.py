"""The generic dump: one table of a SQL database, streamed in batches into the lake as Parquet.

A dump pipeline is configuration: its ``queries/<table>.sql`` files and, in its prefect.yaml, one schedule
per table whose ``parameters`` are the fields of ``DumpParameters``. Modes:

- ``overwrite``: the table is replaced (files this run did not write are deleted at the end);
- ``append``: this run's rows are added, in files named by the run (a retry of the same flow run replaces
  its own files instead of adding them twice);
- ``incremental``: rows from the newest day partition already in the lake on are read again and those days
  rewritten (the watermark is read back from the lake), so a rerun adds new rows without duplicating old ones.

With ``partition_column`` (a date/timestamp column, or text dates with ``partition_date_format``) the files
go to the city's day partitions ``ano_particao=/mes_particao=/data_particao=``; without it, to the table's
directory. Connections: any SQLAlchemy URL (``database_url``), or the city's ``db_type``/``db_host``/
``db_port``/``db_database``; credentials from the environment variables ``<DB_CREDENTIALS>__DB_USERNAME`` and
``<DB_CREDENTIALS>__DB_PASSWORD`` (the Kubernetes secret named by the deployment's ``secretName``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import SQLAlchemyError

from pipelines.common.arrow_types import BatchConverter, parse_type
from pipelines.common.db import (
    ConversionError,
    create_engine,
    gc_paused,
    query_names,
    safe_url,
    stream_batches,
)
from pipelines.common.dump_parameters import DumpError, DumpParameters, read_start, resolve_date, rio_today
from pipelines.common.dump_query import base_query, dump_query
from pipelines.common.dump_writer import PartWriter, partition_days_of, split_days
from pipelines.common.lake import Lake, latest_partition_day, partition_days
from pipelines.common.logs import run_logger
from pipelines.common.secrets import secret_env_var
from pipelines.common.settings import RIO_TZ
from pipelines.common.source import configured_source, samples_allowed

__all__ = ["DumpError", "DumpParameters", "DumpResult", "dump_table", "dump_tables", "dump_to_lake"]
MAX_REJECTED_IDS: Final = 20


@dataclass(frozen=True)
class DumpResult:
    table: str
    destination: str
    mode: str
    since: date | None
    rows_read: int
    rows_written: int
    rows_rejected: int
    invalid_values: int
    days_written: tuple[date, ...]
    files_written: int
    stale_files_deleted: int
    rejected_ids: tuple[Any, ...] = field(default=())


def existing_schema(lake: Lake, parameters: DumpParameters) -> pa.Schema | None:
    """The schema of the table's newest file already in the lake, so the files of this run match it."""
    directory = parameters.table_dir
    if parameters.partition_column:
        newest = next(iter(partition_days(lake, directory)), None)
        if newest is None:
            return None
        directory = newest[1]
    files = [path for path in lake.list_files(directory) if path.endswith(".parquet")]
    return lake.read_schema(files[-1]) if files else None


def default_run_key() -> str:
    """The flow run's scheduled time (stable across its retries), or now outside a flow run."""
    from prefect.runtime import flow_run

    scheduled: datetime = flow_run.scheduled_start_time
    return scheduled.astimezone(RIO_TZ).strftime("%Y%m%dT%H%M%S")


class _Dump:
    """One run of the dump: the state shared by reading, writing and cleaning up."""

    def __init__(self, parameters: DumpParameters, lake: Lake, url: str, since: date | None) -> None:
        self.parameters = parameters
        self.lake = lake
        self.url = url
        self.since = since
        self.logger = run_logger(__name__)
        run_key = (parameters.run_key or default_run_key()) if parameters.dump_mode == "append" else None
        self.writer = PartWriter(
            lake, parameters.table_dir, parameters.table_id, parameters.batch_size, run_key
        )
        self.rows_read = 0
        self.rows_rejected = 0
        self.rejected_ids: list[Any] = []

    def run(self, package: str) -> DumpResult:
        parameters = self.parameters
        engine = create_engine(
            self.url, secret_path=parameters.db_credentials, batch_size=parameters.batch_size
        )
        try:
            sql, bind = dump_query(
                engine.dialect.name,
                base_query(parameters, package, engine),
                partition_column=parameters.partition_column,
                since=self.since,
                text_format=parameters.partition_date_format,
            )
            overrides = {name: parse_type(kind) for name, kind in (parameters.column_types or {}).items()}
            known = existing_schema(self.lake, parameters) if parameters.dump_mode != "overwrite" else None
            converter = BatchConverter(engine.dialect.name, overrides=overrides, known=known)
            self.logger.info(
                "Dumping %s (%s) from %s%s into %s",
                parameters.table_id,
                parameters.dump_mode,
                safe_url(self.url),
                f" since {self.since}" if self.since else "",
                self.lake.display(parameters.table_dir),
            )
            with gc_paused():
                for batch in stream_batches(engine, sql, bind, batch_size=parameters.batch_size):
                    self.rows_read += len(batch)
                    self._write(converter.convert(batch))
                self.writer.close()
            deleted = self._remove_stale()
        except (SQLAlchemyError, ConversionError) as exc:
            raise DumpError(
                f"dumping {parameters.table_id} from {safe_url(self.url)} failed after reading "
                f"{self.rows_read} row(s); the days written before stay in the lake: "
                f"{getattr(exc, 'orig', None) or exc}"
            ) from exc
        finally:
            engine.dispose()
        invalid = sum(
            count for name, count in converter.invalid_values.items() if name != parameters.partition_column
        )
        return self._result(invalid, deleted)

    def _write(self, table: pa.Table) -> None:
        column = self.parameters.partition_column
        if column is None:
            self.writer.add(None, table)
            return
        self._check_columns(table)
        days = partition_days_of(table[column], column, self.parameters.partition_date_format)
        if days.null_count:
            valid = pc.is_valid(days)
            self._reject(table.filter(pc.invert(valid)))
            table, days = table.filter(valid), days.filter(valid)
        for day, rows in split_days(table, days):
            self.writer.add(day, rows)

    def _check_columns(self, table: pa.Table) -> None:
        for name in (self.parameters.partition_column, self.parameters.id_column):
            if name is not None and name not in table.column_names:
                raise DumpError(
                    f"{name!r} is not a column of the query's result "
                    f"(it returns: {', '.join(table.column_names)})"
                )

    def _reject(self, rejected: pa.Table) -> None:
        self.rows_rejected += rejected.num_rows
        id_column = self.parameters.id_column
        sample = rejected[id_column].to_pylist()[:MAX_REJECTED_IDS] if id_column else []
        self.rejected_ids.extend(sample[: MAX_REJECTED_IDS - len(self.rejected_ids)])
        self.logger.warning(
            "Rejected %d row(s) whose %s is not a valid date%s",
            rejected.num_rows,
            self.parameters.partition_column,
            f", e.g. {id_column} {sample[:5]}" if id_column else "",
        )

    def _remove_stale(self) -> int:
        """Files of the replaced range that this run did not write (overwrite: the whole table; incremental:
        the days from ``since`` on). Nothing is removed when the run wrote no row."""
        mode = self.parameters.dump_mode
        if mode == "append":
            return 0
        if self.writer.rows_written == 0:
            self.logger.warning("No row written: the lake is left as it was")
            return 0
        table_dir = self.parameters.table_dir
        if mode == "incremental" and self.since is not None:
            candidates = [
                path
                for _, day_dir in partition_days(self.lake, table_dir, since=self.since)
                for path in self.lake.list_files(day_dir, recursive=True)
            ]
        else:
            candidates = self.lake.list_files(table_dir, recursive=True)
        stale = [path for path in candidates if path not in self.writer.written]
        for path in stale:
            self.lake.delete_file(path)
        return len(stale)

    def _result(self, invalid_values: int, deleted: int) -> DumpResult:
        writer = self.writer
        result = DumpResult(
            table=self.parameters.table_id,
            destination=self.lake.display(self.parameters.table_dir),
            mode=self.parameters.dump_mode,
            since=self.since,
            rows_read=self.rows_read,
            rows_written=writer.rows_written,
            rows_rejected=self.rows_rejected,
            invalid_values=invalid_values,
            days_written=tuple(writer.days),
            files_written=writer.files_written,
            stale_files_deleted=writer.stale_files_deleted + deleted,
            rejected_ids=tuple(self.rejected_ids),
        )
        if writer.reopened:
            self.logger.warning(
                "Rows were not in %s order (%d day(s) reopened): more, smaller files were written",
                self.parameters.partition_column,
                writer.reopened,
            )
        self.logger.info(
            "Read %d row(s), wrote %d in %d file(s)%s, rejected %d, removed %d stale file(s)",
            result.rows_read,
            result.rows_written,
            result.files_written,
            f" over {len(result.days_written)} day(s)" if self.parameters.partition_column else "",
            result.rows_rejected,
            result.stale_files_deleted,
        )
        return result


def dump_to_lake(
    parameters: DumpParameters,
    *,
    package: str,
    sample_database: Callable[[], str] | None = None,
    today: date | None = None,
) -> DumpResult:
    """Dump one table as ``parameters`` say, reading its query from ``<package>/queries/``.

    The database is ``database_url`` or ``db_type``/``db_host``/..., else the job secret's
    ``<DB_CREDENTIALS>__DATABASE_URL`` (a whole URL, credentials included). Without any, ``sample_database``
    (a function returning a URL) is used in an explicitly local run on a local lake only
    (pipelines.common.source): a deployed run fails instead.
    """
    today = today or rio_today()
    problems = parameters.problems(today)
    if problems:
        raise DumpError(
            f"cannot dump {parameters.table_id!r}:\n" + "\n".join(f"  - {problem}" for problem in problems)
        )
    url = parameters.connection_url()
    if url is None and parameters.db_credentials:
        # The whole URL is a secret then, credentials included.
        url = configured_source("database_url", None, parameters.db_credentials)
        parameters = replace(parameters, db_credentials=None)
    if url is None:
        if sample_database is None or not samples_allowed(parameters.lake_uri):
            raise DumpError(
                f"no database to dump {parameters.table_id!r} from: set database_url, or db_type, db_host, "
                "db_port and db_database, in the deployment's parameters, or db_credentials naming the job "
                f"secret that holds {secret_env_var('<DB_CREDENTIALS>', 'DATABASE_URL')} (a sample database "
                "is only for explicitly local runs on a local lake)"
            )
        url = sample_database()
        run_logger(__name__).info("No database given, local run: using the sample database %s", url)
    lake = Lake.from_uri(parameters.lake_uri)
    watermark = None
    if parameters.dump_mode == "incremental":
        watermark = latest_partition_day(lake, parameters.table_dir)
        run_logger(__name__).info(
            "Watermark of %s: %s", parameters.table_dir, watermark or "none (full load)"
        )
    lower_bound = (
        resolve_date(parameters.lower_bound_date, today, parameters.partition_date_format)
        if parameters.lower_bound_date
        else None
    )
    since = read_start(parameters.dump_mode, watermark, lower_bound)
    return _Dump(parameters, lake, url, since).run(package)


@task(cache_policy=NO_CACHE, task_run_name="dump {parameters.table_id}")
def dump_table(
    parameters: DumpParameters, package: str, sample_database: Callable[[], str] | None = None
) -> DumpResult:
    return dump_to_lake(parameters, package=package, sample_database=sample_database)


def dump_tables(
    package: str,
    flow_parameters: Mapping[str, Any],
    *,
    sample_database: Callable[[], str] | None = None,
) -> list[DumpResult]:
    """The body of a dump flow: dumps ``table_id``, or each table of ``queries/`` when it is None."""
    values = {name: value for name, value in flow_parameters.items() if name != "table_id"}
    table = flow_parameters.get("table_id")
    if not table and values.get("query"):
        raise DumpError("query is set but table_id is not: name the table the query dumps")
    tables: Sequence[str] = [table] if table else query_names(package)
    if not tables:
        raise DumpError(f"no table_id given and no queries/*.sql in {package}: nothing to dump")
    return [
        dump_table(DumpParameters.from_mapping({"table_id": name, **values}), package, sample_database)
        for name in tables
    ]
