"""rj_smtr__gps_brt: capture BRT GPS positions from the SMTR API into the lake, raw and treated."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from prefect import flow

from pipelines.common.capture import CaptureResult, local_time
from pipelines.common.lake import Lake
from pipelines.common.sample_server import api_or_sample
from pipelines.common.settings import default_lake_uri
from pipelines.rj_smtr__gps_brt.sample_data import generate_positions
from pipelines.rj_smtr__gps_brt.tasks import (
    TREATED_TABLE_DIR,
    fetch_positions,
    save_raw,
    save_treated,
    validate,
)


@flow(name="rj_smtr__gps_brt")
def rj_smtr__gps_brt(
    api_url: str | None = None,
    lake_uri: str | None = None,
    capture_time: datetime | None = None,
    timeout_seconds: float = 30.0,
    attempts: int = 3,
    backoff_seconds: float = 2.0,
) -> CaptureResult:
    """Capture the positions the API returns now (or at ``capture_time``, naive meaning Rio time).

    Raw records go to ``registros_raw`` by capture hour, valid positions to ``registros`` by GPS hour; files
    are named after the capture minute, so rerunning a minute replaces its files. HTTP failures are retried
    ``attempts`` times in all with exponential backoff. Without ``api_url`` a local sample server on 127.0.0.1
    serves generated positions for the run.
    """
    captured_at = local_time(capture_time)
    lake = lake_uri or default_lake_uri()
    with api_or_sample(api_url, "/veiculos", partial(generate_positions, captured_at)) as url:
        records = fetch_positions(url, timeout_seconds, attempts, backoff_seconds)
    raw_files = save_raw(records, captured_at, lake)
    validated = validate(records, captured_at)
    treated_files = save_treated(validated.table, captured_at, lake)
    return CaptureResult(
        source=url,
        captured_at=captured_at,
        records_received=validated.received,
        records_valid=validated.table.num_rows,
        rejected=validated.rejected,
        raw_files=tuple(raw_files),
        treated_files=tuple(treated_files),
        destination=Lake.from_uri(lake).display(TREATED_TABLE_DIR),
    )


if __name__ == "__main__":
    print(rj_smtr__gps_brt().summary())
