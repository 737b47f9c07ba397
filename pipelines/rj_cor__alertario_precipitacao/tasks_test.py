from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from pipelines.common.http import SourceError
from pipelines.common.settings import RIO_TZ
from pipelines.rj_cor__alertario_precipitacao.sample_data import (
    SAMPLE_BAD_RECORDS,
    SAMPLE_INVALID_AMOUNTS,
    STATIONS,
    generate_readings,
)
from pipelines.rj_cor__alertario_precipitacao.tasks import (
    TREATED_SCHEMA,
    InvalidValue,
    Rejected,
    extract_records,
    normalise_amount,
    normalise_reading,
    normalise_readings,
    normalise_station_id,
)

NOW = datetime(2024, 2, 20, 16, 7, tzinfo=RIO_TZ)


def _record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id_estacao": "5",
        "estacao": " Santa Teresa ",
        "data_medicao": "2024-02-20T16:00:00-03:00",
        "chuva": {"m15": "0,2", "h01": "1.4mm", "h04": "ND", "h24": 3, "h96": None},
    }
    record.update(changes)
    return record


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.2, 0.2), (3, 3.0), ("0.2", 0.2), ("0,2", 0.2), ("1.4mm", 1.4), (" 1.4 MM ", 1.4), ("12", 12.0),
     (None, None), ("", None), ("ND", None), ("nd", None), ("-", None), ("N/D", None)],
)  # fmt: skip
def test_amounts_are_normalised_to_millimetres(value: object, expected: float | None) -> None:
    assert normalise_amount(value) == expected


@pytest.mark.parametrize("value", ["-0.4", -1, "erro", "1.2.3", True, float("inf"), "1,2 cm"])
def test_invalid_amounts(value: object) -> None:
    with pytest.raises(InvalidValue):
        normalise_amount(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7, "07"), ("7", "07"), (" 07 ", "07"), ("007", "07"), (7.0, "07"), (33, "33"), (123, "123")],
)
def test_station_ids_are_zero_padded(value: object, expected: str) -> None:
    assert normalise_station_id(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [(None, "missing_station_id"), ("  ", "missing_station_id"), (True, "missing_station_id"),
     ("X9", "invalid_station_id"), (-3, "invalid_station_id"), (7.5, "invalid_station_id")],
)  # fmt: skip
def test_bad_station_ids(value: object, reason: str) -> None:
    with pytest.raises(Rejected) as caught:
        normalise_station_id(value)
    assert caught.value.reason == reason


def test_a_reading_is_normalised() -> None:
    row, invalid = normalise_reading(_record(), NOW)
    assert invalid == 0
    assert row == {
        "id_estacao": "05",
        "estacao": "Santa Teresa",
        "data_medicao": datetime(2024, 2, 20, 16, 0, tzinfo=RIO_TZ),
        "acumulado_chuva_15_min": 0.2,
        "acumulado_chuva_1_h": 1.4,
        "acumulado_chuva_4_h": None,
        "acumulado_chuva_24_h": 3.0,
        "acumulado_chuva_96_h": None,
    }


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"data_medicao": "20/02/2024 16:00"}, "invalid_timestamp"),
        ({"data_medicao": None}, "invalid_timestamp"),
        ({"data_medicao": (NOW + timedelta(minutes=30)).isoformat()}, "future_timestamp"),
        ({"id_estacao": None}, "missing_station_id"),
    ],
)
def test_bad_readings_are_rejected(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(Rejected) as caught:
        normalise_reading(_record(**changes), NOW)
    assert caught.value.reason == reason


def test_naive_measurement_times_are_rio_time() -> None:
    row, _ = normalise_reading(_record(data_medicao="2024-02-20 16:00:00"), NOW)
    assert row["data_medicao"] == datetime(2024, 2, 20, 16, 0, tzinfo=RIO_TZ)


def test_normalise_counts_drops_duplicates_and_invalid_amounts() -> None:
    records: list[Any] = [
        _record(),
        _record(id_estacao=5),
        _record(id_estacao="6", chuva={"m15": "-1", "h01": "x"}),
        _record(id_estacao="Z"),
        42,
    ]
    result = normalise_readings(records, NOW)
    assert result.table.schema == TREATED_SCHEMA
    assert result.table["id_estacao"].to_pylist() == ["05", "06"]
    assert result.rejected == {"duplicate": 1, "invalid_station_id": 1, "malformed_record": 1}
    assert result.invalid_values == 2


def test_sample_payload_has_the_announced_problems() -> None:
    result = normalise_readings(extract_records("x", generate_readings(NOW)), NOW)
    assert result.rejected == SAMPLE_BAD_RECORDS
    assert result.invalid_values == SAMPLE_INVALID_AMOUNTS
    assert result.table.num_rows == len(STATIONS)
    assert set(result.table["data_medicao"].to_pylist()) == {datetime(2024, 2, 20, 16, 0, tzinfo=RIO_TZ)}


@pytest.mark.parametrize("payload", [[], {"objects": "x"}, {"veiculos": []}])
def test_unexpected_payload_shape_names_the_url(payload: Any) -> None:
    with pytest.raises(SourceError, match=r"^http://api/y: unexpected payload"):
        extract_records("http://api/y", payload)
