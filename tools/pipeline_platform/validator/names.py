"""Rules of a deployment's identity and keys: its name ``rj-<sec>--<name>--<env>``, the keys this repository
does not use, and the template placeholders it does not render."""

from __future__ import annotations

import re

from pipeline_platform.validator import messages
from pipeline_platform.validator.checker import Checker
from pipeline_platform.validator.conventions import IMAGE_TAG_PLACEHOLDER, UNSUPPORTED_KEYS
from pipeline_platform.validator.fields import Section, strings
from pipelines.common.naming import ENVIRONMENTS, PipelineName

_ENVIRONMENT_WORD = re.compile(rf"(?:^|[^a-z0-9])({'|'.join(ENVIRONMENTS)})(?=$|[^a-z0-9])")


def environment(
    checker: Checker, pipeline: PipelineName | None, deployment: Section
) -> tuple[str | None, bool]:
    """The deployment's environment, and whether its name is exactly the expected one. The environment
    comes from the name's ``prod``/``staging`` word even when the rest of the name is wrong."""
    name = deployment.get("name")
    expected = {pipeline.deployment_name(env): env for env in ENVIRONMENTS} if pipeline else {}
    if isinstance(name, str) and name in expected:
        return expected[name], True
    words = set(_ENVIRONMENT_WORD.findall(name.lower())) if isinstance(name, str) else set()
    found = words.pop() if len(words) == 1 else None
    pattern = "(rj-<secretaria>--<pipeline>--<environment>)"
    if pipeline is None:
        if found is None:
            checker.problem(
                deployment.at("name"),
                f"deployment name {name!r} must end in --{' or --'.join(ENVIRONMENTS)} {pattern}",
            )
    elif found is not None:
        checker.problem(
            deployment.at("name"),
            f"deployment name {name!r} must be {pipeline.deployment_name(found)!r} {pattern}",
        )
    else:
        checker.problem(
            deployment.at("name"),
            f"deployment name {name!r} must be one of {', '.join(sorted(expected))} {pattern}",
        )
    return found, False


def unsupported_keys(checker: Checker, deployment: Section) -> None:
    schedule = deployment.get("schedule")
    if schedule is not None:
        both = deployment.get("schedules") is not None
        checker.problem(deployment.at("schedule"), messages.singular_schedule(schedule, both))
    for key, why in UNSUPPORTED_KEYS.items():
        if deployment.get(key) is not None:
            checker.problem(
                deployment.at(key), f"`{key}:` is not supported in this repository's deployments: {why}"
            )


def placeholders(checker: Checker, deployment: Section) -> None:
    image = (*deployment.at("work_pool"), "job_variables", "image")
    for location, value in strings(deployment.raw, deployment.location):
        if location[: len(image)] == image and len(location) == len(image):
            continue  # the image rule explains its placeholders, in one message
        reasons = messages.placeholders(value, allowed={IMAGE_TAG_PLACEHOLDER})
        if reasons:
            checker.problem(location, reasons)
