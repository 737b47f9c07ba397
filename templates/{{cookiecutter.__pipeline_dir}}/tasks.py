"""Tasks of the pipeline: fetch the source's records and keep them, as received, in the lake."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from prefect import task
from prefect.cache_policies import NO_CACHE

from pipelines.common.capture import window_file_name, write_raw
from pipelines.common.http import SourceError, fetch_json
from pipelines.common.logs import run_logger

DATASET_ID: Final = "brutos_{{ cookiecutter.secretaria }}"
RAW_TABLE_DIR: Final = f"{DATASET_ID}/{{ cookiecutter.pipeline }}"
FILE_PREFIX: Final = "{{ cookiecutter.pipeline }}"


def extract_records(url: str, payload: Any) -> list[Any]:
    """The records in the source's payload: here, a JSON list. Adapt it to the real source's format."""
    if not isinstance(payload, list):
        raise SourceError(url, "unexpected payload: expected a JSON list of records")
    return payload


def sample_records(captured_at: datetime) -> list[dict[str, Any]]:
    """Records shaped like the source's, served on 127.0.0.1 when the flow runs without an API URL."""
    return [
        {"id": number, "valor": round(number * 1.5, 2), "atualizado_em": captured_at.isoformat()}
        for number in range(1, 6)
    ]


def capture_file_name(captured_at: datetime) -> str:
    """One file per capture minute: running the same minute again replaces it instead of duplicating."""
    return window_file_name(FILE_PREFIX, captured_at.replace(second=0, microsecond=0))


@task(cache_policy=NO_CACHE)
def fetch_records(api_url: str, timeout_seconds: float, attempts: int, backoff_seconds: float) -> list[Any]:
    payload = fetch_json(
        api_url, timeout_seconds=timeout_seconds, attempts=attempts, backoff_seconds=backoff_seconds
    )
    records = extract_records(api_url, payload)
    run_logger(__name__).info("Fetched %d record(s) from %s", len(records), api_url)
    return records


@task(cache_policy=NO_CACHE)
def save_raw(records: list[Any], captured_at: datetime, lake_uri: str) -> list[str]:
    return write_raw(records, captured_at, lake_uri, RAW_TABLE_DIR, capture_file_name(captured_at))
