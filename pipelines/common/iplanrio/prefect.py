"""``pipelines_utils.prefect``: the current run's name, and the schedules the city generated as YAML."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import yaml
from prefect import task
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext, TaskRunContext

from pipelines.common.iplanrio.logging import log


def current_flow_run_id() -> Any:
    """The id of the flow run this code runs in (from a task or from the flow itself)."""
    task_context = TaskRunContext.get()
    if task_context is not None:
        return task_context.task_run.flow_run_id
    flow_context = FlowRunContext.get()
    if flow_context is not None and flow_context.flow_run is not None:
        return flow_context.flow_run.id
    raise RuntimeError("rename_current_flow_run_task must run inside a Prefect flow run")


@task
def rename_current_flow_run_task(new_name: str) -> None:
    """Renames the current flow run through Prefect's API."""
    flow_run_id = current_flow_run_id()
    with get_client(sync_client=True) as client:
        client.update_flow_run(flow_run_id=flow_run_id, name=new_name)
    log(f"Nome da execução do fluxo atualizado para {new_name}!")


def query_to_line(query: str) -> str:
    return " ".join(line.strip() for line in textwrap.dedent(query).split("\n"))


def _schedules_yaml(schedules: list[dict[str, Any]]) -> str:
    return yaml.dump({"schedules": schedules}, sort_keys=False, indent=2, width=120)


def create_schedules(
    schedules_parameters: Sequence[Mapping[str, Any]],
    base_interval_seconds: int,
    base_anchor_date_str: str,
    runs_interval_minutes: int,
    timezone: str,
    slug_field: str | None = None,
) -> str:
    """A ``schedules:`` YAML block, one interval schedule per parameter set, staggered by
    ``runs_interval_minutes``."""
    anchor = datetime.fromisoformat(base_anchor_date_str)
    schedules = []
    for index, parameters in enumerate(schedules_parameters):
        schedule: dict[str, Any] = {
            "interval": base_interval_seconds,
            "anchor_date": (anchor + timedelta(minutes=runs_interval_minutes * index)).isoformat(),
            "timezone": timezone,
        }
        if slug_field:
            schedule["slug"] = parameters[slug_field]
        schedule["parameters"] = dict(parameters)
        schedules.append(schedule)
    return _schedules_yaml(schedules)


def create_dump_db_schedules(
    table_parameters_list: Sequence[Mapping[str, Any]],
    base_interval_seconds: int,
    base_anchor_date_str: str,
    runs_interval_minutes: int,
    timezone: str,
) -> str:
    """As :func:`create_schedules` for dump parameters: slug ``table_id``, ``execute_query`` on one line."""
    anchor = datetime.fromisoformat(base_anchor_date_str)
    schedules = []
    for index, table in enumerate(table_parameters_list):
        parameters = {
            key: query_to_line(value).strip() if key == "execute_query" else value
            for key, value in table.items()
        }
        if "table_id" not in parameters:
            raise ValueError(f"Missing 'table_id' in table parameters at index {index}")
        schedules.append(
            {
                "interval": base_interval_seconds,
                "anchor_date": (anchor + timedelta(minutes=runs_interval_minutes * index)).isoformat(),
                "timezone": timezone,
                "slug": parameters["table_id"],
                "parameters": parameters,
            }
        )
    return _schedules_yaml(schedules)
