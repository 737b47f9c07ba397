"""{{ cookiecutter.__pipeline_dir }}: the Prefect flow (see README.md)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from pipelines.common.capture import CaptureResult, run_capture
from pipelines.common.source import run_locally
from pipelines.{{ cookiecutter.__pipeline_dir }}.tasks import CAPTURE


@flow(name="{{ cookiecutter.__pipeline_dir }}")
def {{ cookiecutter.__pipeline_dir }}(
    api_url: str | None = None,
    api_credentials: str | None = None,
    lake_uri: str | None = None,
    capture_time: datetime | None = None,
    timeout_seconds: float = 30.0,
    attempts: int = 3,
    backoff_seconds: float = 2.0,
) -> CaptureResult:
    """{{ cookiecutter.description | wordwrap(100, wrapstring="\n    ") }}

    Fetches the records at ``api_url`` (or the job secret's ``<api_credentials>__API_URL``; retried
    ``attempts`` times in all, with exponential backoff) and writes them as received to the lake,
    partitioned by capture day. With no source, only a local run (``python flow.py``) serves sample
    records on 127.0.0.1.
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
    print({{ cookiecutter.__pipeline_dir }}().summary())
