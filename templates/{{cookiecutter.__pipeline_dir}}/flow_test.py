from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from pipelines.common.http import SourceError
from pipelines.common.lake import Lake
from pipelines.common.sample_server import Route, SampleServer, json_response
from pipelines.common.settings import RIO_TZ
from pipelines.common.source import LOCAL_RUN_ENV, SourceNotConfigured
from pipelines.{{ cookiecutter.__pipeline_dir }}.flow import (
    {{ cookiecutter.__pipeline_dir }} as run_flow,
)
from pipelines.{{ cookiecutter.__pipeline_dir }}.tasks import (
    RAW_TABLE_DIR,
    sample_records,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")

CAPTURE = datetime(2024, 5, 10, 14, 2, 20, tzinfo=RIO_TZ)


@pytest.fixture
def api() -> Iterator[SampleServer]:
    routes: dict[str, Route] = {
        "/registros": lambda _query: json_response(sample_records(CAPTURE)),
        "/inesperado": lambda _query: json_response({"erro": "formato novo"}),
    }
    with SampleServer(routes) as server:
        yield server


def test_records_land_in_the_lake_and_reruns_replace_them(api: SampleServer, lake_uri: str) -> None:
    files = run_flow(api_url=api.url("/registros"), lake_uri=lake_uri, capture_time=CAPTURE).raw_files

    assert len(files) == 1
    assert "/data_particao=2024-05-10/" in files[0]
    lake = Lake.from_uri(lake_uri)
    assert lake.read_table(RAW_TABLE_DIR).num_rows == len(sample_records(CAPTURE))

    again = run_flow(api_url=api.url("/registros"), lake_uri=lake_uri, capture_time=CAPTURE).raw_files
    assert again == files
    assert lake.read_table(RAW_TABLE_DIR).num_rows == len(sample_records(CAPTURE))


def test_unexpected_payload_fails_naming_the_url(api: SampleServer, lake_uri: str) -> None:
    url = api.url("/inesperado")
    with pytest.raises(SourceError, match="expected a JSON list") as caught:
        run_flow(api_url=url, lake_uri=lake_uri, capture_time=CAPTURE)
    assert caught.value.url == url


def test_a_local_run_without_a_source_serves_sample_records(
    lake_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCAL_RUN_ENV, "1")
    files = run_flow(lake_uri=lake_uri, capture_time=CAPTURE).raw_files

    assert len(files) == 1
    assert Lake.from_uri(lake_uri).read_table(RAW_TABLE_DIR).num_rows == len(sample_records(CAPTURE))


def test_a_deployed_run_without_a_source_fails_and_writes_nothing(
    lake_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCAL_RUN_ENV, raising=False)
    with pytest.raises(SourceNotConfigured, match="api_url"):
        run_flow(lake_uri=lake_uri, capture_time=CAPTURE)
    assert Lake.from_uri(lake_uri).list_files(RAW_TABLE_DIR, recursive=True) == []
