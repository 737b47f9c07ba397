"""{{ cookiecutter.__pipeline_dir }}: the Prefect flow (see README.md)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from prefect import flow

from pipelines.common.capture import local_time
from pipelines.common.sample_server import api_or_sample
from pipelines.common.settings import default_lake_uri
from pipelines.{{ cookiecutter.__pipeline_dir }}.tasks import (
    fetch_records,
    sample_records,
    save_raw,
)


@flow(name="{{ cookiecutter.__pipeline_dir }}")
def {{ cookiecutter.__pipeline_dir }}(
    api_url: str | None = None,
    lake_uri: str | None = None,
    capture_time: datetime | None = None,
    timeout_seconds: float = 30.0,
    attempts: int = 3,
    backoff_seconds: float = 2.0,
) -> list[str]:
    """{{ cookiecutter.description | wordwrap(100, wrapstring="\n    ") }}

    Fetches the records at ``api_url`` (retried ``attempts`` times in all, with exponential backoff) and
    writes them as received to the lake, partitioned by capture day; returns the files written. Without
    ``api_url`` a local sample server on 127.0.0.1 serves sample records for the run.
    """
    captured_at = local_time(capture_time)
    lake = lake_uri or default_lake_uri()
    with api_or_sample(api_url, "/registros", partial(sample_records, captured_at)) as url:
        records = fetch_records(url, timeout_seconds, attempts, backoff_seconds)
    return save_raw(records, captured_at, lake)


if __name__ == "__main__":
    for path in {{ cookiecutter.__pipeline_dir }}():
        print(path)
