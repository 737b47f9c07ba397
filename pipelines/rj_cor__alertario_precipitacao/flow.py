"""rj_cor__alertario_precipitacao: capture AlertaRio rain-gauge readings (every 15 minutes) into the lake."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from pipelines.common.capture import CaptureResult, run_capture
from pipelines.common.source import run_locally
from pipelines.rj_cor__alertario_precipitacao.tasks import CAPTURE


@flow(name="rj_cor__alertario_precipitacao")
def rj_cor__alertario_precipitacao(
    api_url: str | None = None,
    api_credentials: str | None = None,
    lake_uri: str | None = None,
    capture_time: datetime | None = None,
    timeout_seconds: float = 30.0,
    attempts: int = 3,
    backoff_seconds: float = 2.0,
) -> CaptureResult:
    """Capture the stations' current readings (at ``capture_time``, naive meaning Rio time; default now).

    The API is ``api_url``, or the job secret's ``<api_credentials>__API_URL`` (the deployments set
    ``api_credentials``). Raw records go to ``taxa_precipitacao_alertario_raw`` by capture date; normalised
    readings (amounts in mm as floats, "ND" as null, station ids zero-padded) to
    ``taxa_precipitacao_alertario`` by measurement date. Files are named after the 15-minute capture window,
    so rerunning a window replaces its files. HTTP failures are retried ``attempts`` times in all with
    exponential backoff. With no source, only a local run (``python flow.py``) captures generated readings
    from a sample server on 127.0.0.1.
    """
    return run_capture(
        CAPTURE,
        api_url=api_url,
        api_credentials=api_credentials,
        lake_uri=lake_uri,
        capture_time=capture_time,
        timeout_seconds=timeout_seconds,
        attempts=attempts,
        backoff_seconds=backoff_seconds,
    )


if __name__ == "__main__":
    run_locally()
    print(rj_cor__alertario_precipitacao().summary())
