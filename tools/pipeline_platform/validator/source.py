"""The source rule: a prod or staging deployment names where its flow reads from.

Every pipeline kind (captures, dumps, imported code) falls back to sample data only in an explicitly local
run (pipelines/common/source.py); a deployed run with no source fails. This rule catches it before the
deploy: when the flow has a source parameter (``api_url``, ``database_url``, ``db_host``) that defaults to
None, the deployment (or every one of its schedules) must set one of them, or the parameter naming the job
secret that holds it (``api_credentials``, ``db_credentials``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline_platform.validator.checker import Checker
from pipeline_platform.validator.fields import Section
from pipelines.common.secrets import secret_env_var
from pipelines.common.source import SECRET_PATH_PARAMETERS, SOURCE_PARAMETERS


def source(
    checker: Checker, deployment: Section, schema: Mapping[str, Any] | None, environment: str | None
) -> None:
    if environment is None or schema is None:
        return  # no environment or no signature: reported by their own rules
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    sources = [
        name
        for name in SOURCE_PARAMETERS
        if name in properties and name not in required and properties[name].get("default") is None
    ]
    if not sources:
        return  # the flow reads no configurable source, or has one by default
    secrets = [name for name in SECRET_PATH_PARAMETERS if name in properties]
    names = [*sources, *secrets]
    given = deployment.get("parameters")
    parameters: Mapping[Any, Any] = given if isinstance(given, dict) else {}
    if _sets_one(parameters, names):
        return
    scheduled = deployment.get("schedules")
    schedules = [item for item in scheduled if isinstance(item, dict)] if isinstance(scheduled, list) else []
    if schedules and all(_sets_one({**parameters, **_parameters(item)}, names) for item in schedules):
        return
    fix = f"set parameters.{sources[0]}"
    if secrets:
        variable = secret_env_var(f"<{secrets[0]}>", sources[0])
        fix += f" or parameters.{secrets[0]} (the job secret holding {variable})"
    checker.problem(
        deployment.at("parameters"),
        f"the {environment} deployment has no source: flow parameter(s) {', '.join(sources)} default to "
        f"None and neither the deployment nor every schedule sets {' or '.join(names)}; a deployed run "
        f"never falls back to sample data, it fails. {fix[0].upper()}{fix[1:]}",
    )


def _sets_one(parameters: Mapping[Any, Any], names: list[str]) -> bool:
    return any(parameters.get(name) not in (None, "") for name in names)


def _parameters(schedule: Mapping[Any, Any]) -> Mapping[Any, Any]:
    parameters = schedule.get("parameters")
    return parameters if isinstance(parameters, dict) else {}
