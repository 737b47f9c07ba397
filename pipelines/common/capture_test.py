from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.common.capture import (
    CaptureResult,
    local_time,
    raw_table,
    window_file_name,
    window_start,
    write_raw,
)
from pipelines.common.lake import Lake
from pipelines.common.settings import RIO_TZ


def test_local_time_reads_naive_as_rio_time_and_converts_aware() -> None:
    assert local_time(datetime(2024, 1, 1, 10)) == datetime(2024, 1, 1, 10, tzinfo=RIO_TZ)
    assert local_time(datetime(2024, 1, 1, 13, tzinfo=UTC)).hour == 10
    assert local_time(None).tzinfo is RIO_TZ


def test_windows_and_their_file_names() -> None:
    moment = datetime(2024, 1, 1, 10, 44, 59, 123, tzinfo=RIO_TZ)
    assert window_start(moment, 15) == datetime(2024, 1, 1, 10, 30, tzinfo=RIO_TZ)
    assert window_start(moment, 1) == datetime(2024, 1, 1, 10, 44, tzinfo=RIO_TZ)
    assert window_file_name("x", window_start(moment, 15)) == "x_20240101T1030.parquet"
    with pytest.raises(ValueError):
        window_start(moment, 7)


def test_raw_table_keeps_each_record_as_json() -> None:
    moment = datetime(2024, 1, 1, 10, tzinfo=RIO_TZ)
    table = raw_table([{"b": 1, "a": "ç"}, None, [1]], moment)
    assert [json.loads(text) for text in table["conteudo"].to_pylist()] == [{"a": "ç", "b": 1}, None, [1]]
    assert table["timestamp_captura"].to_pylist() == [moment] * 3


def test_summary_lists_rejections() -> None:
    result = CaptureResult(
        "http://x",
        datetime(2024, 1, 1, tzinfo=RIO_TZ) + timedelta(0),
        5,
        3,
        {"b": 1, "a": 1},
        (),
        ("f",),
        "/lake/t",
    )
    assert result.records_rejected == 2
    assert (
        result.summary() == "3/5 record(s) from http://x written to /lake/t (1 file(s)); rejected: a: 1, b: 1"
    )


def test_write_raw_partitions_by_capture_hour_and_rewrites_its_window(tmp_path: Path) -> None:
    captured_at = datetime(2024, 1, 1, 10, 44, tzinfo=RIO_TZ)
    lake_uri = str(tmp_path)

    first = write_raw([{"id": 1}], captured_at, lake_uri, "brutos/x", "x_1044.parquet", hourly=True)
    again = write_raw(
        [{"id": 1}, {"id": 2}], captured_at, lake_uri, "brutos/x", "x_1044.parquet", hourly=True
    )

    assert first == again
    (path,) = again
    assert "/data_particao=2024-01-01/" in path and "hora_particao=10" in path
    table = Lake.from_uri(lake_uri).read_table("brutos/x")
    assert sorted(json.loads(text)["id"] for text in table.column("conteudo").to_pylist()) == [1, 2]
