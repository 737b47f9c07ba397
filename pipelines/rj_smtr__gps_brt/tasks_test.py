from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from pipelines.common.http import SourceError
from pipelines.common.settings import RIO_TZ
from pipelines.rj_smtr__gps_brt.sample_data import SAMPLE_BAD_RECORDS, SAMPLE_VEHICLES, generate_positions
from pipelines.rj_smtr__gps_brt.tasks import (
    TREATED_SCHEMA,
    Rejected,
    extract_records,
    parse_gps_time,
    validate_position,
    validate_positions,
)

NOW = datetime(2024, 5, 10, 14, 0, tzinfo=RIO_TZ)


def _record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "codigo": "40001",
        "placa": "LAB1C23",
        "linha": "10",
        "latitude": -22.91,
        "longitude": -43.35,
        "dataHora": int((NOW - timedelta(seconds=30)).timestamp() * 1000),
        "velocidade": 35,
        "sentido": "ida",
    }
    record.update(changes)
    return record


def test_a_good_record_is_typed() -> None:
    row = validate_position(_record(codigo=" 40001 ", latitude="-22,91", velocidade="12.5"), NOW)
    assert row["id_veiculo"] == "40001"
    assert row["latitude"] == -22.91
    assert row["velocidade"] == 12.5
    assert row["timestamp_gps"] == NOW - timedelta(seconds=30)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"codigo": None}, "missing_vehicle_id"),
        ({"codigo": "   "}, "missing_vehicle_id"),
        ({"latitude": None}, "invalid_coordinates"),
        ({"longitude": "oeste"}, "invalid_coordinates"),
        ({"latitude": float("nan")}, "invalid_coordinates"),
        ({"latitude": 0.0, "longitude": 0.0}, "outside_rio"),
        ({"latitude": -23.5}, "outside_rio"),
        ({"longitude": -42.9}, "outside_rio"),
        ({"dataHora": None}, "invalid_timestamp"),
        ({"dataHora": "ontem"}, "invalid_timestamp"),
        ({"dataHora": int((NOW + timedelta(minutes=5)).timestamp() * 1000)}, "future_timestamp"),
        ({"dataHora": (NOW + timedelta(hours=1)).isoformat()}, "future_timestamp"),
    ],
)
def test_bad_records_are_rejected_with_a_reason(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(Rejected) as caught:
        validate_position(_record(**changes), NOW)
    assert caught.value.reason == reason


def test_small_clock_skew_is_tolerated() -> None:
    skewed = int((NOW + timedelta(seconds=45)).timestamp() * 1000)
    assert validate_position(_record(dataHora=skewed), NOW)["timestamp_gps"] > NOW


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1715360400000, datetime(2024, 5, 10, 14, 0, tzinfo=RIO_TZ)),
        ("1715360400000", datetime(2024, 5, 10, 14, 0, tzinfo=RIO_TZ)),
        ("2024-05-10T14:00:00", datetime(2024, 5, 10, 14, 0, tzinfo=RIO_TZ)),
        ("2024-05-10T17:00:00+00:00", datetime(2024, 5, 10, 14, 0, tzinfo=RIO_TZ)),
        (True, None),
        (10**20, None),
    ],
)
def test_parse_gps_time(value: object, expected: datetime | None) -> None:
    assert parse_gps_time(value) == expected


def test_validate_counts_every_drop_including_duplicates() -> None:
    records: list[Any] = [
        _record(),
        _record(),
        _record(codigo=None),
        "not an object",
        _record(codigo="40002"),
    ]
    result = validate_positions(records, NOW)
    assert result.received == 5
    assert result.table.num_rows == 2
    assert result.table.schema == TREATED_SCHEMA
    assert result.rejected == {"duplicate": 1, "missing_vehicle_id": 1, "malformed_record": 1}
    assert result.table["timestamp_captura"].to_pylist() == [NOW, NOW]


def test_sample_payload_has_the_announced_bad_records() -> None:
    result = validate_positions(extract_records("x", generate_positions(NOW)), NOW)
    assert result.rejected == SAMPLE_BAD_RECORDS
    assert result.table.num_rows == SAMPLE_VEHICLES
    assert generate_positions(NOW) == generate_positions(NOW + timedelta(seconds=20))


@pytest.mark.parametrize("payload", [[], {"veiculos": {}}, {"data": []}, None])
def test_unexpected_payload_shape_names_the_url(payload: Any) -> None:
    with pytest.raises(SourceError, match=r"^http://api/x: unexpected payload"):
        extract_records("http://api/x", payload)
