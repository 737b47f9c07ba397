"""The AlertaRio rain-gauge capture's source and normalisation; pipelines/common/capture.py runs the rest."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import pyarrow as pa

from pipelines.common.capture import Capture, Validated
from pipelines.common.http import SourceError
from pipelines.common.settings import RIO_TZ
from pipelines.rj_cor__alertario_precipitacao.sample_data import generate_readings

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


def normalise_readings(records: Sequence[Any], captured_at: datetime) -> Validated:
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
    return Validated(table, len(records), dict(rejected), invalid_values)


CAPTURE: Final = Capture(
    name="rj_cor__alertario_precipitacao",
    extract=extract_records,
    validate=normalise_readings,
    sample=generate_readings,
    raw_table_dir=RAW_TABLE_DIR,
    treated_table_dir=TREATED_TABLE_DIR,
    file_prefix=FILE_PREFIX,
    window_minutes=CAPTURE_WINDOW_MINUTES,
    time_column="data_medicao",
    sample_path="/dados_pluviometricos",
)
