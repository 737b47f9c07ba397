"""``pipelines_utils.prefect``: the current run renamed through a real Prefect server's API, from a task and
from the flow itself; the city's schedule helpers' YAML read back by Prefect's own schedule model."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from prefect import flow, get_client
from prefect.client.schemas.schedules import IntervalSchedule

from pipelines.common.iplanrio.prefect import (
    create_dump_db_schedules,
    create_schedules,
    rename_current_flow_run_task,
)


@flow
def renamed_by_a_task(name: str) -> None:
    rename_current_flow_run_task(new_name=name)


@flow
def renamed_by_the_flow(name: str) -> None:
    rename_current_flow_run_task.fn(name)


@pytest.mark.parametrize("renaming", [renamed_by_a_task, renamed_by_the_flow])
def test_the_run_is_renamed_on_the_server(prefect_harness: None, renaming: object) -> None:
    assert callable(renaming)
    state = renaming("dump chamado 2024-01-31", return_state=True)
    assert state.is_completed(), state
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert run.name == "dump chamado 2024-01-31"


def test_outside_a_run_renaming_says_so() -> None:
    with pytest.raises(RuntimeError, match="must run inside a Prefect flow run"):
        rename_current_flow_run_task.fn("x")


def test_schedule_helpers_write_schedules_prefect_reads() -> None:
    tables = [
        {"table_id": "chamado", "execute_query": "\n    SELECT *\n    FROM chamado\n"},
        {"table_id": "bairro", "execute_query": "SELECT 1"},
    ]
    dumped = yaml.safe_load(
        create_dump_db_schedules(tables, 86400, "2024-01-01T03:00:00", 15, "America/Sao_Paulo")
    )
    schedules = dumped["schedules"]
    assert [item["slug"] for item in schedules] == ["chamado", "bairro"]
    assert schedules[0]["parameters"]["execute_query"] == "SELECT * FROM chamado"
    read = [
        IntervalSchedule.model_validate({key: item[key] for key in ("interval", "anchor_date", "timezone")})
        for item in schedules
    ]
    assert read[1].anchor_date - read[0].anchor_date == timedelta(minutes=15)
    assert {item.interval for item in read} == {timedelta(days=1)}
    assert {item.timezone for item in read} == {"America/Sao_Paulo"}
    with pytest.raises(ValueError, match="Missing 'table_id' in table parameters at index 0"):
        create_dump_db_schedules([{"execute_query": "SELECT 1"}], 60, "2024-01-01T00:00:00", 1, "UTC")
    generic = yaml.safe_load(
        create_schedules(
            [{"fonte": "a"}, {"fonte": "b"}], 300, "2024-01-01T00:00:00", 1, "UTC", slug_field="fonte"
        )
    )
    assert [(item["slug"], item["parameters"]) for item in generic["schedules"]] == [
        ("a", {"fonte": "a"}),
        ("b", {"fonte": "b"}),
    ]
