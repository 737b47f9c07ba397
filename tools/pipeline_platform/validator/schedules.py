"""Rules of a deployment's schedules: ``schedules:`` is a list; each has exactly one of cron, interval or
rrule, an explicit IANA timezone, a value Prefect converts as ``prefect deploy`` does, and parameters the
flow accepts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect.client.schemas.actions import DeploymentScheduleCreate

# Prefect's models are pydantic models; pydantic comes with the prefect requirement.
from pydantic import ValidationError  # pants: no-infer-dep

from pipeline_platform.prefect_internals import RawScheduleConfig, schedule_config_to_deployment_schedule
from pipeline_platform.validator import messages
from pipeline_platform.validator.checker import Checker
from pipeline_platform.validator.fields import Section, error_messages, fields, read_section, type_problems
from pipeline_platform.validator.flow import check_parameters
from pipeline_platform.yaml_document import Location


def schedules(
    checker: Checker, deployment: Section, schema: Mapping[str, Any] | None
) -> list[dict[str, Any]] | None:
    """The valid schedules, None if any is not; the items of a singular ``schedule:`` are checked too."""
    key = "schedules" if deployment.get("schedules") is not None else "schedule"
    value = deployment.get(key)
    if value is None:
        return []
    if key == "schedule":
        value = [value] if isinstance(value, dict) else value
        if not isinstance(value, list):
            return None  # the singular key's own message says what to write
    elif not isinstance(value, list):
        what = messages.MAPPING_NOT_LIST.format(what="schedule") if isinstance(value, dict) else None
        checker.problem(
            deployment.at(key), what or f"must be a list of schedules, not {messages.kind(value)}"
        )
        return None
    single = key == "schedule" and isinstance(deployment.get(key), dict)
    found: list[dict[str, Any]] = []
    for position, item in enumerate(value):
        location = deployment.at(key) if single else (*deployment.at(key), position)
        with checker.guard(location, "this schedule"):
            schedule = _schedule(checker, location, item, schema)
            if schedule is not None:
                found.append(schedule)
    return found if len(found) == len(value) else None


def _schedule(
    checker: Checker, location: Location, raw: Any, schema: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        checker.problem(
            location,
            f"each schedule must be a mapping (`cron:`, `timezone:`...), not {messages.kind(raw)}",
        )
        return None
    before = len(checker.problems)
    schedule, found = read_section(location, raw, RawScheduleConfig, "schedule")
    checker.report(found)
    checker.report(type_problems(schedule, RawScheduleConfig, fields(RawScheduleConfig)))
    typed_ok = len(checker.problems) == before
    values = {
        name: schedule.get(name) for name in fields(RawScheduleConfig) if schedule.get(name) is not None
    }
    kinds = [name for name in ("cron", "interval", "rrule") if name in values]
    if len(kinds) != 1:
        checker.problem(location, messages.schedule_kinds(kinds))
    if values.get("timezone") is None:
        checker.problem(location, "every schedule needs an explicit `timezone:` (e.g. America/Sao_Paulo)")
    elif typed_ok and len(kinds) == 1:
        try:
            DeploymentScheduleCreate(**schedule_config_to_deployment_schedule(dict(values)))
        except (ValidationError, ValueError, TypeError, OverflowError) as error:
            for message in error_messages(error):
                checker.problem(location, message)
    parameters = schedule.get("parameters")
    if schema is not None and isinstance(parameters, dict):
        check_parameters(checker, schedule.at("parameters"), parameters, schema)
    return dict(raw) if len(checker.problems) == before else None
