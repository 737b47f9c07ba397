"""rj_cor__alertario_precipitacao: capture AlertaRio rain-gauge readings (every 15 minutes) into the lake."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from prefect import flow

from pipelines.common.capture import CaptureResult, local_time
from pipelines.common.lake import Lake
from pipelines.common.sample_server import api_or_sample
from pipelines.common.settings import default_lake_uri
from pipelines.rj_cor__alertario_precipitacao.sample_data import generate_readings
from pipelines.rj_cor__alertario_precipitacao.tasks import (
    TREATED_TABLE_DIR,
    fetch_readings,
    normalise,
    save_raw,
    save_readings,
)


@flow(name="rj_cor__alertario_precipitacao")
def rj_cor__alertario_precipitacao(
    api_url: str | None = None,
    lake_uri: str | None = None,
    capture_time: datetime | None = None,
    timeout_seconds: float = 30.0,
    attempts: int = 3,
    backoff_seconds: float = 2.0,
) -> CaptureResult:
    """Capture the stations' current readings (at ``capture_time``, naive meaning Rio time; default now).

    Raw records go to ``taxa_precipitacao_alertario_raw`` by capture date; normalised readings (amounts in
    mm as floats, "ND" as null, station ids zero-padded) to ``taxa_precipitacao_alertario`` by measurement
    date. Files are named after the 15-minute capture window, so rerunning a window replaces its files.
    HTTP failures are retried ``attempts`` times in all with exponential backoff. Without ``api_url`` a local
    sample server on 127.0.0.1 serves generated readings for the run.
    """
    captured_at = local_time(capture_time)
    lake = lake_uri or default_lake_uri()
    with api_or_sample(api_url, "/dados_pluviometricos", partial(generate_readings, captured_at)) as url:
        records = fetch_readings(url, timeout_seconds, attempts, backoff_seconds)
    raw_files = save_raw(records, captured_at, lake)
    readings = normalise(records, captured_at)
    treated_files = save_readings(readings.table, captured_at, lake)
    return CaptureResult(
        source=url,
        captured_at=captured_at,
        records_received=readings.received,
        records_valid=readings.table.num_rows,
        rejected=readings.rejected,
        raw_files=tuple(raw_files),
        treated_files=tuple(treated_files),
        destination=Lake.from_uri(lake).display(TREATED_TABLE_DIR),
        invalid_values=readings.invalid_values,
    )


if __name__ == "__main__":
    print(rj_cor__alertario_precipitacao().summary())
