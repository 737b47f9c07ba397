from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.common.dump_sample import SAMPLE_ROWS
from pipelines.common.lake import Lake
from pipelines.common.settings import LOCAL_DATA_DIR_ENV
from pipelines.common.source import LOCAL_RUN_ENV
from pipelines.{{ cookiecutter.__pipeline_dir }}.flow import (
    {{ cookiecutter.__pipeline_dir }} as run_flow,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")

{% set tables = cookiecutter.tables.split(",") | map("trim") | reject("equalto", "") | list -%}
TABLES = [{% for table in tables %}"{{ table }}"{{ ", " if not loop.last }}{% endfor %}]
DATASET_ID = "brutos_{{ cookiecutter.secretaria }}"


@pytest.fixture(autouse=True)
def local_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A local run (samples allowed), whose sample database goes to the test's directory."""
    monkeypatch.setenv(LOCAL_RUN_ENV, "1")
    monkeypatch.setenv(LOCAL_DATA_DIR_ENV, str(tmp_path / "local"))


def test_every_table_is_dumped_from_the_sample(lake_uri: str) -> None:
    results = run_flow(lake_uri=lake_uri)

    assert [result.table for result in results] == sorted(TABLES)
    lake = Lake.from_uri(lake_uri)
    for table in TABLES:
        assert lake.read_table(f"{DATASET_ID}/{table}").num_rows == SAMPLE_ROWS


def test_incremental_reruns_rewrite_only_the_newest_day(lake_uri: str) -> None:
    table = TABLES[0]
    [first] = run_flow(table, dump_mode="incremental", partition_column="atualizado_em", lake_uri=lake_uri)
    [again] = run_flow(table, dump_mode="incremental", partition_column="atualizado_em", lake_uri=lake_uri)

    assert first.since is None and first.rows_written == SAMPLE_ROWS
    assert again.since == first.days_written[-1]
    assert again.days_written == (first.days_written[-1],)
    assert Lake.from_uri(lake_uri).read_table(f"{DATASET_ID}/{table}").num_rows == SAMPLE_ROWS
