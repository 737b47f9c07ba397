"""The lake's servers for the helper library's tests: a real GCS JSON API (gcp-storage-emulator, in this
process) and the BigQuery endpoint that records what the real client sends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gcp_storage_emulator.server import create_server

from pipelines.common.iplanrio.bigquery_testing import BigQueryRecorder, bigquery_endpoint
from pipelines.common.iplanrio.google_testing import LAKE_BUCKET as BUCKET


@pytest.fixture
def gcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = create_server("127.0.0.1", 0, in_memory=True, default_bucket=BUCKET)
    server.start()
    host = f"127.0.0.1:{server._api._httpd.server_address[1]}"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://{host}")
    monkeypatch.setenv("PIPELINES_LAKE_URI", f"gs://{BUCKET}")
    try:
        yield host
    finally:
        server.stop()


@pytest.fixture
def bigquery(monkeypatch: pytest.MonkeyPatch) -> Iterator[BigQueryRecorder]:
    with bigquery_endpoint() as recorder:
        monkeypatch.setenv("PIPELINES_BIGQUERY_API_ENDPOINT", recorder.url)
        monkeypatch.setenv("PIPELINES_BIGQUERY_PROJECT", "rj-escritorio-dev")
        yield recorder
