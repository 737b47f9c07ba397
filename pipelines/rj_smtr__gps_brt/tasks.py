"""The BRT GPS capture's source and validation; pipelines/common/capture.py runs the rest."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import pyarrow as pa

from pipelines.common.capture import Capture, Validated
from pipelines.common.http import SourceError
from pipelines.common.settings import RIO_TZ
from pipelines.rj_smtr__gps_brt.sample_data import generate_positions

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


def validate_positions(records: Sequence[Any], captured_at: datetime) -> Validated:
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
    return Validated(table=table, received=len(records), rejected=dict(rejected))


CAPTURE: Final = Capture(
    name="rj_smtr__gps_brt",
    extract=extract_records,
    validate=validate_positions,
    sample=generate_positions,
    raw_table_dir=RAW_TABLE_DIR,
    treated_table_dir=TREATED_TABLE_DIR,
    file_prefix=FILE_PREFIX,
    window_minutes=CAPTURE_WINDOW_MINUTES,
    time_column="timestamp_gps",
    hourly=True,
    sample_path="/veiculos",
)
