"""The API capture skeleton: fetch, save the raw records, validate, save the treated rows.

A capture pipeline holds only its source and its validation (a :class:`Capture`); :func:`run_capture` is its
flow's body. The source is ``api_url`` or the job secret's ``<API_CREDENTIALS>__API_URL``; without one, only
an explicitly local run (pipelines.common.source) serves the pipeline's sample on 127.0.0.1, and a deployed
run fails before writing anything. Files are named after the capture window, so rerunning a window replaces
them.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

from pipelines.common.http import fetch_json
from pipelines.common.lake import Lake, write_partitioned
from pipelines.common.logs import run_logger
from pipelines.common.sample_server import SampleServer, json_response
from pipelines.common.settings import RIO_TZ, default_lake_uri
from pipelines.common.source import SourceNotConfigured, configured_source, samples_allowed

RAW_SCHEMA = pa.schema(
    [
        pa.field("timestamp_captura", pa.timestamp("us", tz=str(RIO_TZ))),
        pa.field("conteudo", pa.string()),
    ]
)


def local_time(moment: datetime | None) -> datetime:
    """``moment`` in Rio's time zone (naive means Rio's local time); now if None."""
    if moment is None:
        return datetime.now(RIO_TZ)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=RIO_TZ)
    return moment.astimezone(RIO_TZ)


def window_start(moment: datetime, minutes: int) -> datetime:
    """Start of the ``minutes``-long window (aligned on the hour) holding ``moment``."""
    if not 1 <= minutes <= 60 or 60 % minutes:
        raise ValueError("minutes must divide 60")
    return moment.replace(minute=moment.minute - moment.minute % minutes, second=0, microsecond=0)


def window_file_name(prefix: str, start: datetime) -> str:
    """The file name for one capture window: rerunning the window rewrites the same file."""
    return f"{prefix}_{start:%Y%m%dT%H%M}.parquet"


def raw_table(records: Sequence[Any], captured_at: datetime) -> pa.Table:
    """Each record as received, as JSON text, stamped with the capture time."""
    return pa.Table.from_pydict(
        {
            "timestamp_captura": [captured_at] * len(records),
            "conteudo": [json.dumps(record, ensure_ascii=False, sort_keys=True) for record in records],
        },
        schema=RAW_SCHEMA,
    )


def write_raw(
    records: Sequence[Any],
    captured_at: datetime,
    lake_uri: str,
    table_dir: str,
    file_name: str,
    *,
    hourly: bool = False,
) -> list[str]:
    """``records`` as received (``raw_table``) into ``table_dir``, partitioned by capture time."""
    return write_partitioned(
        Lake.from_uri(lake_uri),
        table_dir,
        raw_table(records, captured_at),
        time_column="timestamp_captura",
        file_name=file_name,
        hourly=hourly,
    )


@dataclass(frozen=True)
class CaptureResult:
    source: str
    captured_at: datetime
    records_received: int
    records_valid: int
    rejected: Mapping[str, int]
    raw_files: tuple[str, ...]
    treated_files: tuple[str, ...]
    destination: str
    invalid_values: int = field(default=0)

    @property
    def records_rejected(self) -> int:
        return sum(self.rejected.values())

    def summary(self) -> str:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(self.rejected.items())) or "none"
        return (
            f"{self.records_valid}/{self.records_received} record(s) from {self.source} written to "
            f"{self.destination} ({len(self.treated_files)} file(s)); rejected: {reasons}"
        )


@dataclass(frozen=True)
class Validated:
    """The rows a validation kept (``table``), how many records it received and why it dropped the rest."""

    table: pa.Table
    received: int
    rejected: Mapping[str, int]
    invalid_values: int = 0


@dataclass(frozen=True)
class Capture:
    """What one capture pipeline defines; the skeleton does the rest.

    ``extract(url, payload)`` is the list of records in the source's JSON (raising ``SourceError`` when the
    payload is not the expected shape); ``validate(records, captured_at)`` gives the treated rows, partitioned
    by ``time_column``; ``sample(captured_at)`` is a payload like the source's, for local runs only.
    """

    name: str
    extract: Callable[[str, Any], list[Any]]
    validate: Callable[[Sequence[Any], datetime], Validated] | None
    sample: Callable[[datetime], Any]
    raw_table_dir: str
    treated_table_dir: str | None
    file_prefix: str
    window_minutes: int
    time_column: str = "timestamp_captura"
    hourly: bool = False
    sample_path: str = "/sample"

    def file_name(self, captured_at: datetime) -> str:
        return window_file_name(self.file_prefix, window_start(captured_at, self.window_minutes))


def run_capture(
    capture: Capture,
    *,
    api_url: str | None,
    api_credentials: str | None,
    lake_uri: str | None,
    capture_time: datetime | None,
    timeout_seconds: float,
    attempts: int,
    backoff_seconds: float,
) -> CaptureResult:
    """One capture: the source is resolved first, so a run with none writes nothing."""
    captured_at = local_time(capture_time)
    lake = lake_uri or default_lake_uri()
    url = configured_source("api_url", api_url, api_credentials)
    if url is None and not samples_allowed(lake):
        raise SourceNotConfigured(capture.name, "api_url")
    with contextlib.ExitStack() as stack:
        if url is None:
            payload = capture.sample(captured_at)
            routes = {capture.sample_path: lambda _q: json_response(payload)}
            server = stack.enter_context(SampleServer(routes))
            url = server.url(capture.sample_path)
            run_logger(__name__).warning("Local run without a source: sample data served at %s", url)
        records = fetch_records(capture, url, timeout_seconds, attempts, backoff_seconds)
    raw_files = save_raw(capture, records, captured_at, lake)
    validated = validate_records(capture, records, captured_at)
    treated_files = save_treated(capture, validated.table, captured_at, lake)
    return CaptureResult(
        source=url,
        captured_at=captured_at,
        records_received=validated.received,
        records_valid=validated.table.num_rows,
        rejected=validated.rejected,
        raw_files=tuple(raw_files),
        treated_files=tuple(treated_files),
        destination=Lake.from_uri(lake).display(capture.treated_table_dir or capture.raw_table_dir),
        invalid_values=validated.invalid_values,
    )


@task(cache_policy=NO_CACHE, task_run_name="fetch {capture.name}")
def fetch_records(
    capture: Capture, api_url: str, timeout_seconds: float, attempts: int, backoff_seconds: float
) -> list[Any]:
    payload = fetch_json(
        api_url, timeout_seconds=timeout_seconds, attempts=attempts, backoff_seconds=backoff_seconds
    )
    records = capture.extract(api_url, payload)
    run_logger(__name__).info("Fetched %d record(s) from %s", len(records), api_url)
    return records


@task(cache_policy=NO_CACHE, task_run_name="save raw {capture.name}")
def save_raw(capture: Capture, records: list[Any], captured_at: datetime, lake_uri: str) -> list[str]:
    return write_raw(
        records,
        captured_at,
        lake_uri,
        capture.raw_table_dir,
        capture.file_name(captured_at),
        hourly=capture.hourly,
    )


@task(cache_policy=NO_CACHE, task_run_name="validate {capture.name}")
def validate_records(capture: Capture, records: list[Any], captured_at: datetime) -> Validated:
    if capture.validate is None:
        return Validated(raw_table(records, captured_at).slice(0, 0), len(records), {})
    result = capture.validate(records, captured_at)
    logger = run_logger(__name__)
    if result.rejected:
        logger.warning(
            "Dropped %d of %d record(s): %s",
            sum(result.rejected.values()),
            result.received,
            dict(sorted(result.rejected.items())),
        )
    if result.invalid_values:
        logger.warning("%d invalid value(s) stored as null", result.invalid_values)
    return result


@task(cache_policy=NO_CACHE, task_run_name="save treated {capture.name}")
def save_treated(capture: Capture, table: pa.Table, captured_at: datetime, lake_uri: str) -> list[str]:
    if capture.treated_table_dir is None:
        return []
    return write_partitioned(
        Lake.from_uri(lake_uri),
        capture.treated_table_dir,
        table,
        time_column=capture.time_column,
        file_name=capture.file_name(captured_at),
        hourly=capture.hourly,
    )
