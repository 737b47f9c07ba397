from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from pipelines.common.http import SourceError
from pipelines.common.lake import Lake
from pipelines.common.sample_server import Response, Route, SampleServer, json_response
from pipelines.common.secrets import MissingSecretError
from pipelines.common.settings import RIO_TZ
from pipelines.common.source import LOCAL_RUN_ENV, SourceNotConfigured
from pipelines.rj_cor__alertario_precipitacao.flow import rj_cor__alertario_precipitacao
from pipelines.rj_cor__alertario_precipitacao.sample_data import (
    SAMPLE_BAD_RECORDS,
    SAMPLE_INVALID_AMOUNTS,
    STATIONS,
    generate_readings,
)
from pipelines.rj_cor__alertario_precipitacao.tasks import RAW_TABLE_DIR, TREATED_TABLE_DIR

pytestmark = pytest.mark.usefixtures("prefect_harness")

CAPTURE = datetime(2024, 2, 20, 0, 4, tzinfo=RIO_TZ)


@pytest.fixture
def api() -> Iterator[SampleServer]:
    readings = generate_readings(CAPTURE)
    routes: dict[str, Route] = {
        "/dados": lambda _q: json_response(readings),
        "/html": lambda _q: Response(body=b"<html>Service Unavailable</html>", content_type="text/html"),
        "/busy": lambda _q: Response(status=503, body=b"busy"),
    }
    with SampleServer(routes) as server:
        yield server


def test_capture_normalises_and_writes_by_measurement_date(api: SampleServer, tmp_path: Path) -> None:
    lake_uri = str(tmp_path / "lake")
    result = rj_cor__alertario_precipitacao(
        api_url=api.url("/dados"), lake_uri=lake_uri, capture_time=CAPTURE
    )
    assert result.records_valid == len(STATIONS)
    assert result.records_received == len(STATIONS) + sum(SAMPLE_BAD_RECORDS.values())
    assert result.rejected == SAMPLE_BAD_RECORDS
    assert result.invalid_values == SAMPLE_INVALID_AMOUNTS
    day_dir = "ano_particao=2024/mes_particao=02/data_particao=2024-02-20"
    assert result.treated_files == (
        f"{lake_uri}/{TREATED_TABLE_DIR}/{day_dir}/alertario_20240220T0000.parquet",
    )
    lake = Lake.from_uri(lake_uri)
    readings = lake.read_table(TREATED_TABLE_DIR)
    assert sorted(readings["id_estacao"].to_pylist()) == [f"{n:02d}" for n in range(1, len(STATIONS) + 1)]
    assert readings.schema.field("acumulado_chuva_15_min").type == "double"

    again = rj_cor__alertario_precipitacao(api_url=api.url("/dados"), lake_uri=lake_uri, capture_time=CAPTURE)
    assert again.treated_files == result.treated_files
    assert lake.read_table(TREATED_TABLE_DIR).num_rows == len(STATIONS)
    assert len(lake.list_files(RAW_TABLE_DIR, recursive=True)) == 1


def test_html_instead_of_json_fails_naming_the_url(api: SampleServer, tmp_path: Path) -> None:
    url = api.url("/html")
    with pytest.raises(SourceError, match="not valid JSON.*Service Unavailable") as caught:
        rj_cor__alertario_precipitacao(api_url=url, lake_uri=str(tmp_path), capture_time=CAPTURE)
    assert caught.value.url == url


def test_unavailable_and_dead_sources_fail_after_retries(api: SampleServer, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="failed after 2 attempt.*HTTP 503"):
        rj_cor__alertario_precipitacao(
            api_url=api.url("/busy"),
            lake_uri=str(tmp_path),
            capture_time=CAPTURE,
            attempts=2,
            backoff_seconds=0.01,
        )
    assert api.hits["/busy"] == 2
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/dados"
    with pytest.raises(SourceError, match="unreachable") as caught:
        rj_cor__alertario_precipitacao(
            api_url=dead, lake_uri=str(tmp_path), capture_time=CAPTURE, backoff_seconds=0.01
        )
    assert caught.value.url == dead


def test_a_local_run_without_a_source_serves_sample_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCAL_RUN_ENV, "1")
    result = rj_cor__alertario_precipitacao(lake_uri=str(tmp_path), capture_time=CAPTURE)
    assert result.source.startswith("http://127.0.0.1:")
    assert result.records_valid == len(STATIONS)
    assert result.rejected == SAMPLE_BAD_RECORDS


def test_a_run_that_is_not_local_fails_without_a_source_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCAL_RUN_ENV, raising=False)
    with pytest.raises(SourceNotConfigured, match="'api_url'.*<API_CREDENTIALS>__API_URL"):
        rj_cor__alertario_precipitacao(lake_uri=str(tmp_path), capture_time=CAPTURE)
    assert list(tmp_path.iterdir()) == []
    # Even a local run never serves samples into a lake that is not a local directory.
    monkeypatch.setenv(LOCAL_RUN_ENV, "1")
    with pytest.raises(SourceNotConfigured):
        rj_cor__alertario_precipitacao(lake_uri="gs://bucket-never-reached/lake", capture_time=CAPTURE)


def test_the_source_comes_from_the_job_secret_named_by_api_credentials(
    api: SampleServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCAL_RUN_ENV, raising=False)
    monkeypatch.delenv("API_TESTE__API_URL", raising=False)
    with pytest.raises(MissingSecretError, match="API_TESTE__API_URL"):
        rj_cor__alertario_precipitacao(
            api_credentials="api_teste", lake_uri=str(tmp_path), capture_time=CAPTURE
        )
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("API_TESTE__API_URL", api.url("/dados"))
    result = rj_cor__alertario_precipitacao(
        api_credentials="api_teste", lake_uri=str(tmp_path), capture_time=CAPTURE
    )
    assert result.source == api.url("/dados")
    assert result.records_valid > 0
