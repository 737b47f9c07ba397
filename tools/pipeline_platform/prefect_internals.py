"""Prefect's private APIs that this repository relies on, all here (Prefect as pinned in
3rdparty/python/pins/prefect.txt).

Prefect has no public equivalent for these:

- the models of prefect.yaml (``prefect.cli.deploy._models``): what ``prefect deploy`` reads. The validator
  checks a prefect.yaml against them and the importer writes one with them. The JSON schema Prefect
  publishes for prefect.yaml is generated from these models and is not shipped in the package (it is served
  online), so the models are the offline form of that schema;
- the conversion of a prefect.yaml schedule into a deployment schedule
  (``prefect.cli.deploy._schedules._schedule_config_to_deployment_schedule``): what ``prefect deploy``
  registers for a schedule, defaults and timezone handling included;
- a function's signature read from its source without importing it
  (``prefect.utilities.callables._generate_signature_from_source``), to name the parameter Prefect cannot
  build a schema for.

prefect_internals_test.py pins what the callers use of each, so that a Prefect upgrade that moves or changes
one of them fails there first, with the name of what moved.
"""

from __future__ import annotations

import inspect
from typing import Any

from prefect.cli.deploy._models import DeploymentConfig, PrefectYamlModel, RawScheduleConfig, WorkPoolConfig
from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
from prefect.utilities.callables import _generate_signature_from_source

__all__ = [
    "DeploymentConfig",
    "PrefectYamlModel",
    "RawScheduleConfig",
    "WorkPoolConfig",
    "schedule_config_to_deployment_schedule",
    "signature_from_source",
]


def schedule_config_to_deployment_schedule(schedule: dict[str, Any]) -> dict[str, Any]:
    """A prefect.yaml schedule (``cron``/``interval``/``rrule``, ``timezone``, ``active``, ``parameters``...)
    as the keyword arguments of ``DeploymentScheduleCreate``, exactly as ``prefect deploy`` converts it."""
    converted: dict[str, Any] = _schedule_config_to_deployment_schedule(schedule)
    return converted


def signature_from_source(source: str, function: str, path: str | None = None) -> inspect.Signature:
    """The signature of the module-level ``function`` of ``source``, read without running the module."""
    return _generate_signature_from_source(source, function, path)
