"""Tasks of the BRT GPS capture: fetch, keep the raw records, validate, write treated positions."""

from __future__ import annotations

import math
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

DATASET_ID: Final = "br_rj_riodejaneiro_brt_gps"
RAW_TABLE_DIR: Final = f"{DATASET_ID}/registros_raw"
TREATED_TABLE_DIR: Final = f"{DATASET_ID}/registros"
FILE_PREFIX: Final = "gps_brt"
CAPTURE_WINDOW_MINUTES: Final = 1
FUTURE_TOLERANCE: Final = timedelta(minutes=1)

# The city of Rio de Janeiro with a small margin: (south, north) latitudes, (west, east) longitudes.
RIO_LATITUDE: Final = (-23.10, -22.70)
RIO_LONGITUDE: Final = (-43.85, -43.05)

TREATED_SCHEMA: Final = pa.schema(
    [
        pa.field("id_veiculo", pa.string(), nullable=False),
        pa.field("placa", pa.string()),
        pa.field("linha", pa.string()),
        pa.field("latitude", pa.float64(), nullable=False),
        pa.field("longitude", pa.float64(), nullable=False),
        pa.field("velocidade", pa.float64()),
        pa.field("sentido", pa.string()),
        pa.field("timestamp_gps", pa.timestamp("us", tz=str(RIO_TZ)), nullable=False),
        pa.field("timestamp_captura", pa.timestamp("us", tz=str(RIO_TZ)), nullable=False),
    ]
)


class Rejected(Exception):
    """A record that does not pass validation, with the reason it is counted under."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ValidatedPositions:
    table: pa.Table
    received: int
    rejected: Mapping[str, int]


def extract_records(url: str, payload: Any) -> list[Any]:
    """The list of positions in the API's ``{"veiculos": [...]}`` payload."""
    records = payload.get("veiculos") if isinstance(payload, dict) else None
    if not isinstance(records, list):
        raise SourceError(url, 'unexpected payload: expected an object with a "veiculos" list')
    return records


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_gps_time(value: Any) -> datetime | None:
    """Epoch milliseconds (number or digits) or ISO 8601 text (naive means Rio time) as an aware datetime."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
            return datetime.fromtimestamp(float(value) / 1000, tz=RIO_TZ)
        if isinstance(value, str):
            moment = datetime.fromisoformat(value.strip())
            return moment.replace(tzinfo=RIO_TZ) if moment.tzinfo is None else moment.astimezone(RIO_TZ)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def validate_position(record: Any, reference: datetime) -> dict[str, Any]:
    """One treated row, or :class:`Rejected` naming why the record is dropped."""
    if not isinstance(record, dict):
        raise Rejected("malformed_record")
    vehicle = _text(record.get("codigo"))
    if vehicle is None:
        raise Rejected("missing_vehicle_id")
    latitude, longitude = _number(record.get("latitude")), _number(record.get("longitude"))
    if latitude is None or longitude is None:
        raise Rejected("invalid_coordinates")
    if not (
        RIO_LATITUDE[0] <= latitude <= RIO_LATITUDE[1] and RIO_LONGITUDE[0] <= longitude <= RIO_LONGITUDE[1]
    ):
        raise Rejected("outside_rio")
    moment = parse_gps_time(record.get("dataHora"))
    if moment is None:
        raise Rejected("invalid_timestamp")
    if moment > reference + FUTURE_TOLERANCE:
        raise Rejected("future_timestamp")
    return {
        "id_veiculo": vehicle,
        "placa": _text(record.get("placa")),
        "linha": _text(record.get("linha")),
        "latitude": latitude,
        "longitude": longitude,
        "velocidade": _number(record.get("velocidade")),
        "sentido": _text(record.get("sentido")),
        "timestamp_gps": moment,
    }


def validate_positions(records: Sequence[Any], captured_at: datetime) -> ValidatedPositions:
    """Valid positions as a table; dropped records counted by reason.

    Dropped: no vehicle id, coordinates missing or outside Rio, timestamp missing, unreadable or after the
    capture (beyond a minute of clock skew), and repeats of a (vehicle, timestamp) already seen.
    """
    rejected: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, datetime]] = set()
    for record in records:
        try:
            row = validate_position(record, captured_at)
        except Rejected as rejection:
            rejected[rejection.reason] += 1
            continue
        key = (row["id_veiculo"], row["timestamp_gps"])
        if key in seen:
            rejected["duplicate"] += 1
            continue
        seen.add(key)
        row["timestamp_captura"] = captured_at
        rows.append(row)
    table = pa.Table.from_pylist(rows, schema=TREATED_SCHEMA)
    return ValidatedPositions(table=table, received=len(records), rejected=dict(rejected))


@task(cache_policy=NO_CACHE)
def fetch_positions(api_url: str, timeout_seconds: float, attempts: int, backoff_seconds: float) -> list[Any]:
    payload = fetch_json(
        api_url, timeout_seconds=timeout_seconds, attempts=attempts, backoff_seconds=backoff_seconds
    )
    records = extract_records(api_url, payload)
    run_logger(__name__).info("Fetched %d record(s) from %s", len(records), api_url)
    return records


@task(cache_policy=NO_CACHE)
def save_raw(records: list[Any], captured_at: datetime, lake_uri: str) -> list[str]:
    name = window_file_name(FILE_PREFIX, window_start(captured_at, CAPTURE_WINDOW_MINUTES))
    return write_raw(records, captured_at, lake_uri, RAW_TABLE_DIR, name, hourly=True)


@task(cache_policy=NO_CACHE)
def validate(records: list[Any], captured_at: datetime) -> ValidatedPositions:
    result = validate_positions(records, captured_at)
    if result.rejected:
        run_logger(__name__).warning(
            "Dropped %d of %d record(s): %s",
            sum(result.rejected.values()),
            result.received,
            dict(sorted(result.rejected.items())),
        )
    return result


@task(cache_policy=NO_CACHE)
def save_treated(table: pa.Table, captured_at: datetime, lake_uri: str) -> list[str]:
    name = window_file_name(FILE_PREFIX, window_start(captured_at, CAPTURE_WINDOW_MINUTES))
    return write_partitioned(
        Lake.from_uri(lake_uri),
        TREATED_TABLE_DIR,
        table,
        time_column="timestamp_gps",
        file_name=name,
        hourly=True,
    )
