"""Shared pieces of the API capture pipelines: capture windows, raw records, results."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from pipelines.common.lake import Lake, write_partitioned
from pipelines.common.settings import RIO_TZ

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
