"""Tasks of the AlertaRio rain-gauge capture: fetch, keep the raw records, normalise, write readings."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

from pipelines.common.capture import window_file_name, window_start, write_raw
from pipelines.common.http import SourceError, fetch_json
from pipelines.common.lake import Lake, write_partitioned
from pipelines.common.logs import run_logger
from pipelines.common.settings import RIO_TZ

DATASET_ID: Final = "clima_pluviometro"
RAW_TABLE_DIR: Final = f"{DATASET_ID}/taxa_precipitacao_alertario_raw"
TREATED_TABLE_DIR: Final = f"{DATASET_ID}/taxa_precipitacao_alertario"
FILE_PREFIX: Final = "alertario"
CAPTURE_WINDOW_MINUTES: Final = 15
FUTURE_TOLERANCE: Final = timedelta(minutes=5)
STATION_ID_WIDTH: Final = 2
MISSING_MARKERS: Final = frozenset({"", "nd", "n/d", "-", "--", "null", "none"})

AMOUNT_COLUMNS: Final = {
    "m15": "acumulado_chuva_15_min",
    "h01": "acumulado_chuva_1_h",
    "h04": "acumulado_chuva_4_h",
    "h24": "acumulado_chuva_24_h",
    "h96": "acumulado_chuva_96_h",
}

TREATED_SCHEMA: Final = pa.schema(
    [
        pa.field("id_estacao", pa.string(), nullable=False),
        pa.field("estacao", pa.string()),
        pa.field("data_medicao", pa.timestamp("us", tz=str(RIO_TZ)), nullable=False),
        *(pa.field(column, pa.float64()) for column in AMOUNT_COLUMNS.values()),
        pa.field("timestamp_captura", pa.timestamp("us", tz=str(RIO_TZ)), nullable=False),
    ]
)

_AMOUNT = re.compile(r"^(-?\d+(?:[.,]\d+)?)\s*(?:mm)?$")
_STATION = re.compile(r"^\d+$")


class Rejected(Exception):
    """A record that does not pass validation, with the reason it is counted under."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidValue(ValueError):
    """An amount that is present but not a valid amount of rain."""


@dataclass(frozen=True)
class NormalisedReadings:
    table: pa.Table
    received: int
    rejected: Mapping[str, int]
    invalid_values: int


def extract_records(url: str, payload: Any) -> list[Any]:
    """The list of readings in the API's ``{"objects": [...]}`` payload."""
    records = payload.get("objects") if isinstance(payload, dict) else None
    if not isinstance(records, list):
        raise SourceError(url, 'unexpected payload: expected an object with an "objects" list')
    return records


def normalise_station_id(value: Any) -> str:
    """``7``, ``"7"``, ``" 07 "`` -> ``"07"``; :class:`Rejected` if missing or not a number."""
    if value is None or isinstance(value, bool):
        raise Rejected("missing_station_id")
    text = str(value).strip()
    if not text:
        raise Rejected("missing_station_id")
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not _STATION.match(text):
        raise Rejected("invalid_station_id")
    return str(int(text)).zfill(STATION_ID_WIDTH)


def normalise_amount(value: Any) -> float | None:
    """Millimetres of rain as a float: ``0.2``, ``"0,2"``, ``"0.2mm"`` -> 0.2; ``"ND"``, ``""``, None -> None.

    Raises :class:`InvalidValue` for text that is not an amount, negative or non-finite numbers.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidValue(repr(value))
    if isinstance(value, int | float):
        amount = float(value)
    else:
        text = str(value).strip().lower()
        if text in MISSING_MARKERS:
            return None
        match = _AMOUNT.match(text)
        if match is None:
            raise InvalidValue(repr(value))
        amount = float(match.group(1).replace(",", "."))
    if not math.isfinite(amount) or amount < 0:
        raise InvalidValue(repr(value))
    return amount


def parse_measurement_time(value: Any) -> datetime | None:
    """ISO 8601 text (naive means Rio time) as an aware datetime in Rio's zone; None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=RIO_TZ) if moment.tzinfo is None else moment.astimezone(RIO_TZ)


def normalise_reading(record: Any, reference: datetime) -> tuple[dict[str, Any], int]:
    """One treated row and how many of its amounts were invalid (kept as null), or :class:`Rejected`."""
    if not isinstance(record, dict):
        raise Rejected("malformed_record")
    station = normalise_station_id(record.get("id_estacao"))
    measured_at = parse_measurement_time(record.get("data_medicao"))
    if measured_at is None:
        raise Rejected("invalid_timestamp")
    if measured_at > reference + FUTURE_TOLERANCE:
        raise Rejected("future_timestamp")
    amounts = record.get("chuva")
    if not isinstance(amounts, dict):
        amounts = {}
    row: dict[str, Any] = {
        "id_estacao": station,
        "estacao": record.get("estacao"),
        "data_medicao": measured_at,
    }
    invalid = 0
    for key, column in AMOUNT_COLUMNS.items():
        try:
            row[column] = normalise_amount(amounts.get(key))
        except InvalidValue:
            row[column] = None
            invalid += 1
    if isinstance(row["estacao"], str):
        row["estacao"] = row["estacao"].strip() or None
    elif row["estacao"] is not None:
        row["estacao"] = str(row["estacao"])
    return row, invalid


def normalise_readings(records: Sequence[Any], captured_at: datetime) -> NormalisedReadings:
    """Readings with normalised station ids and amounts; dropped records counted by reason.

    Dropped: missing or non-numeric station id, unreadable or future measurement time, and repeats of a
    (station, time) already seen. Invalid amounts (negative, not a number) become null and are counted.
    """
    rejected: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, datetime]] = set()
    invalid_values = 0
    for record in records:
        try:
            row, invalid = normalise_reading(record, captured_at)
        except Rejected as rejection:
            rejected[rejection.reason] += 1
            continue
        key = (row["id_estacao"], row["data_medicao"])
        if key in seen:
            rejected["duplicate"] += 1
            continue
        seen.add(key)
        invalid_values += invalid
        row["timestamp_captura"] = captured_at
        rows.append(row)
    table = pa.Table.from_pylist(rows, schema=TREATED_SCHEMA)
    return NormalisedReadings(table, len(records), dict(rejected), invalid_values)


@task(cache_policy=NO_CACHE)
def fetch_readings(api_url: str, timeout_seconds: float, attempts: int, backoff_seconds: float) -> list[Any]:
    payload = fetch_json(
        api_url, timeout_seconds=timeout_seconds, attempts=attempts, backoff_seconds=backoff_seconds
    )
    records = extract_records(api_url, payload)
    run_logger(__name__).info("Fetched %d record(s) from %s", len(records), api_url)
    return records


@task(cache_policy=NO_CACHE)
def save_raw(records: list[Any], captured_at: datetime, lake_uri: str) -> list[str]:
    name = window_file_name(FILE_PREFIX, window_start(captured_at, CAPTURE_WINDOW_MINUTES))
    return write_raw(records, captured_at, lake_uri, RAW_TABLE_DIR, name)


@task(cache_policy=NO_CACHE)
def normalise(records: list[Any], captured_at: datetime) -> NormalisedReadings:
    result = normalise_readings(records, captured_at)
    logger = run_logger(__name__)
    if result.rejected:
        logger.warning(
            "Dropped %d of %d record(s): %s",
            sum(result.rejected.values()),
            result.received,
            dict(sorted(result.rejected.items())),
        )
    if result.invalid_values:
        logger.warning("%d invalid amount(s) stored as null", result.invalid_values)
    return result


@task(cache_policy=NO_CACHE)
def save_readings(table: pa.Table, captured_at: datetime, lake_uri: str) -> list[str]:
    name = window_file_name(FILE_PREFIX, window_start(captured_at, CAPTURE_WINDOW_MINUTES))
    return write_partitioned(
        Lake.from_uri(lake_uri), TREATED_TABLE_DIR, table, time_column="data_medicao", file_name=name
    )
