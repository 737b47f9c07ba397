"""Rules of a deployment's flow: the entrypoint is a ``@flow`` function in a file of the pipeline, and the
parameters given (by the deployment, by each schedule) are accepted by its signature, read from the source
without importing it; a required parameter is given by the deployment or by every schedule."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline_platform.flow_source import FlowSignature, find_flow, flow_signature, read_flow_file
from pipeline_platform.problems import Problem
from pipeline_platform.validator import messages
from pipeline_platform.validator.checker import Checker
from pipeline_platform.validator.fields import Section, schema_errors, suggestion
from pipeline_platform.yaml_document import Location


def entrypoint(checker: Checker, deployment: Section) -> tuple[str | None, FlowSignature | None]:
    """The entrypoint and its flow's signature; None for what cannot be read (with the problems)."""
    location = deployment.at("entrypoint")
    value = deployment.get("entrypoint")
    expected_dir = f"pipelines/{checker.dir_name}/"
    if not isinstance(value, str) or ":" not in value:
        checker.problem(
            location, f"entrypoint must read `{expected_dir}flow.py:{checker.dir_name}`, not {value!r}"
        )
        return None, None
    path, _, function = value.rpartition(":")
    if not path.startswith(expected_dir) or ".." in Path(path).parts:
        checker.problem(location, f"entrypoint {value!r} must be a file under {expected_dir}")
        return None, None
    if not path.isprintable():
        checker.problem(location, f"entrypoint {value!r} holds characters no file name has")
        return None, None
    source = checker.repo_root / path
    if not source.is_file():
        missing = "is not a file" if source.exists() else "does not exist"
        checker.problem(location, f"entrypoint file {path} {missing}")
        return None, None
    if source not in checker.flow_files:
        checker.flow_files[source] = read_flow_file(source)
    flow_file = checker.flow_files[source]
    shown = str(checker.pipeline_dir / path[len(expected_dir) :])
    checker.problems.extend(Problem(shown, reason, line) for line, reason in flow_file.problems)
    if flow_file.tree is None:
        return value, None
    node, why = find_flow(flow_file, function)
    if node is None:
        checker.problem(location, f"{path} {why}")
        return value, None
    signature = flow_signature(flow_file, node)
    checker.problems.extend(Problem(shown, reason, line) for line, reason in signature.problems)
    return value, signature


def deployment_parameters(checker: Checker, deployment: Section, schema: Mapping[str, Any] | None) -> None:
    parameters = deployment.get("parameters")
    if schema is None or not isinstance(parameters, dict | None):
        return  # no signature to check against, or not a mapping (reported with the types)
    given = parameters or {}
    check_parameters(checker, deployment.at("parameters"), given, schema)
    schedules = deployment.get("schedules")
    if schedules is None:
        schedule = deployment.get("schedule")
        schedules = [schedule] if isinstance(schedule, dict) else schedule
    scheduled = [_schedule_parameters(item) for item in schedules] if isinstance(schedules, list) else []
    if not scheduled and deployment.get("enforce_parameter_schema") is not False:
        return  # run by hand only: Prefect asks for the required values and refuses a run without them
    for name in schema.get("required", []):
        if name in given:
            continue
        lacking = [position for position, values in enumerate(scheduled) if name not in values]
        if scheduled and not lacking:
            continue  # every schedule gives it: Prefect accepts the deployment
        checker.problem(
            deployment.at("parameters"), messages.required_parameter(name, len(scheduled), lacking)
        )


def check_parameters(
    checker: Checker, location: Location, parameters: Mapping[str, Any], schema: Mapping[str, Any]
) -> None:
    """Each parameter is one the flow accepts, with a value its signature accepts."""
    accepted = list(schema.get("properties", {}))
    for name in parameters:
        if name not in accepted:
            checker.problem(
                (*location, str(name)),
                f"parameter {name!r} is not accepted by the flow{suggestion(str(name), accepted)} "
                f"(it accepts: {', '.join(accepted) or 'no parameters'})",
            )
    known = {name: value for name, value in parameters.items() if name in accepted}
    for path, message in schema_errors(known, schema):
        checker.problem((*location, *path), f"invalid value for the flow's signature: {message}")


def _schedule_parameters(schedule: Any) -> Mapping[Any, Any]:
    if not isinstance(schedule, dict):
        return {}
    parameters = schedule.get("parameters")
    return parameters if isinstance(parameters, dict) else {}
