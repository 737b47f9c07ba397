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
  build a schema for;
- a worker's job configuration rendered with no Prefect server (``offline_client``): the public
  ``BaseJobConfiguration.from_template_and_values`` takes a client, and, called without one, creates one
  (starting a local ephemeral server when no API URL is set). It uses the client only to resolve block and
  variable references (``{{ prefect.blocks.* }}``, ``{{ prefect.variables.* }}``, ``$ref``); the conventions
  lint renders each deployment's Kubernetes Job offline by passing a stand-in that refuses any use.

prefect_internals_test.py pins what the callers use of each, so that a Prefect upgrade that moves or changes
one of them fails there first, with the name of what moved.
"""

from __future__ import annotations

import inspect
from typing import Any, NoReturn, cast

from prefect.cli.deploy._models import DeploymentConfig, PrefectYamlModel, RawScheduleConfig, WorkPoolConfig
from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
from prefect.client.orchestration import PrefectClient
from prefect.utilities.callables import _generate_signature_from_source

__all__ = [
    "DeploymentConfig",
    "OfflineClientError",
    "PrefectYamlModel",
    "RawScheduleConfig",
    "WorkPoolConfig",
    "offline_client",
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


class OfflineClientError(RuntimeError):
    """Something asked the offline client for what only a Prefect server has."""


class _OfflineClient:
    def __getattr__(self, name: str) -> NoReturn:
        raise OfflineClientError(
            f"rendered with no Prefect server, but {name!r} needs one: a Prefect block or variable is "
            "referenced ({{ prefect.blocks.* }}, {{ prefect.variables.* }} or $ref)"
        )


def offline_client() -> PrefectClient:
    """A stand-in for ``PrefectClient`` in ``from_template_and_values``: any use raises
    ``OfflineClientError``, so no server is started or reached."""
    return cast(PrefectClient, _OfflineClient())
