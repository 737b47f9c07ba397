"""rj_smtr__gps_brt: capture BRT GPS positions from the SMTR API into the lake, raw and treated."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from pipelines.common.capture import CaptureResult, run_capture
from pipelines.common.source import run_locally
from pipelines.rj_smtr__gps_brt.tasks import CAPTURE


@flow(name="rj_smtr__gps_brt")
def rj_smtr__gps_brt(
    api_url: str | None = None,
    api_credentials: str | None = None,
    lake_uri: str | None = None,
    capture_time: datetime | None = None,
    timeout_seconds: float = 30.0,
    attempts: int = 3,
    backoff_seconds: float = 2.0,
) -> CaptureResult:
    """Capture the positions the API returns now (or at ``capture_time``, naive meaning Rio time).

    The API is ``api_url``, or the job secret's ``<api_credentials>__API_URL`` (the deployments set
    ``api_credentials``). Raw records go to ``registros_raw`` by capture hour, valid positions to
    ``registros`` by GPS hour; files are named after the capture minute, so rerunning a minute replaces its
    files. HTTP failures are retried ``attempts`` times in all with exponential backoff. With no source, only
    a local run (``python flow.py``) captures generated positions from a sample server on 127.0.0.1.
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
    print(rj_smtr__gps_brt().summary())
