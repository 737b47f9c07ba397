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
from pipelines.rj_smtr__gps_brt.flow import rj_smtr__gps_brt
from pipelines.rj_smtr__gps_brt.sample_data import SAMPLE_BAD_RECORDS, SAMPLE_VEHICLES, generate_positions
from pipelines.rj_smtr__gps_brt.tasks import RAW_TABLE_DIR, TREATED_TABLE_DIR

pytestmark = pytest.mark.usefixtures("prefect_harness")

CAPTURE = datetime(2024, 5, 10, 14, 2, 20, tzinfo=RIO_TZ)


@pytest.fixture
def api() -> Iterator[SampleServer]:
    positions = generate_positions(CAPTURE)
    routes: dict[str, Route] = {
        "/veiculos": lambda _q: json_response(positions),
        "/truncated": lambda _q: Response(body=b'{"veiculos": [{"codigo": "40001", "lati'),
    }
    with SampleServer(routes) as server:
        yield server


def test_capture_writes_raw_and_treated_by_hour_and_counts_drops(api: SampleServer, tmp_path: Path) -> None:
    lake_uri = str(tmp_path / "lake")
    result = rj_smtr__gps_brt(api_url=api.url("/veiculos"), lake_uri=lake_uri, capture_time=CAPTURE)
    received = SAMPLE_VEHICLES + sum(SAMPLE_BAD_RECORDS.values())
    assert (result.records_received, result.records_valid) == (received, SAMPLE_VEHICLES)
    assert result.rejected == SAMPLE_BAD_RECORDS
    lake = Lake.from_uri(lake_uri)
    hours = {
        path.split("/hora_particao=")[1][:2] for path in lake.list_files(TREATED_TABLE_DIR, recursive=True)
    }
    assert hours == {"13", "14"}
    assert all(path.endswith("/gps_brt_20240510T1402.parquet") for path in result.treated_files)
    assert lake.list_files(RAW_TABLE_DIR, recursive=True) == [
        f"{RAW_TABLE_DIR}/ano_particao=2024/mes_particao=05/data_particao=2024-05-10/hora_particao=14/"
        "gps_brt_20240510T1402.parquet"
    ]
    assert lake.read_table(RAW_TABLE_DIR).num_rows == received

    again = rj_smtr__gps_brt(api_url=api.url("/veiculos"), lake_uri=lake_uri, capture_time=CAPTURE)
    assert again.treated_files == result.treated_files
    assert lake.read_table(TREATED_TABLE_DIR).num_rows == SAMPLE_VEHICLES


def test_malformed_json_fails_naming_the_url(api: SampleServer, tmp_path: Path) -> None:
    url = api.url("/truncated")
    with pytest.raises(SourceError, match="not valid JSON") as caught:
        rj_smtr__gps_brt(api_url=url, lake_uri=str(tmp_path), capture_time=CAPTURE)
    assert caught.value.url == url
    assert list(tmp_path.iterdir()) == []


def test_dead_source_fails_naming_the_url(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/veiculos"
    with pytest.raises(SourceError, match="unreachable") as caught:
        rj_smtr__gps_brt(api_url=url, lake_uri=str(tmp_path), capture_time=CAPTURE, backoff_seconds=0.01)
    assert caught.value.url == url


def test_a_local_run_without_a_source_serves_sample_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCAL_RUN_ENV, "1")
    result = rj_smtr__gps_brt(lake_uri=str(tmp_path), capture_time=CAPTURE)
    assert result.source.startswith("http://127.0.0.1:")
    assert result.rejected == SAMPLE_BAD_RECORDS
    assert result.records_valid == SAMPLE_VEHICLES


def test_a_run_that_is_not_local_fails_without_a_source_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCAL_RUN_ENV, raising=False)
    with pytest.raises(SourceNotConfigured, match="'api_url'.*<API_CREDENTIALS>__API_URL"):
        rj_smtr__gps_brt(lake_uri=str(tmp_path), capture_time=CAPTURE)
    assert list(tmp_path.iterdir()) == []
    # Even a local run never serves samples into a lake that is not a local directory.
    monkeypatch.setenv(LOCAL_RUN_ENV, "1")
    with pytest.raises(SourceNotConfigured):
        rj_smtr__gps_brt(lake_uri="gs://bucket-never-reached/lake", capture_time=CAPTURE)


def test_the_source_comes_from_the_job_secret_named_by_api_credentials(
    api: SampleServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCAL_RUN_ENV, raising=False)
    monkeypatch.delenv("API_TESTE__API_URL", raising=False)
    with pytest.raises(MissingSecretError, match="API_TESTE__API_URL"):
        rj_smtr__gps_brt(api_credentials="api_teste", lake_uri=str(tmp_path), capture_time=CAPTURE)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("API_TESTE__API_URL", api.url("/veiculos"))
    result = rj_smtr__gps_brt(api_credentials="api_teste", lake_uri=str(tmp_path), capture_time=CAPTURE)
    assert result.source == api.url("/veiculos")
    assert result.records_valid > 0
