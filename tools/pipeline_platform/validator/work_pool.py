"""Rules of a deployment's work pool: one of ``WORK_POOLS`` with a committed base job template; job variables
declared by that template and valid for it; ``secretName`` of the environment; ``image``
``<image name>:{{ $IMAGE_TAG }}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect.utilities.templating import find_placeholders

from pipeline_platform.prefect_internals import WorkPoolConfig
from pipeline_platform.validator import messages
from pipeline_platform.validator.checker import Checker
from pipeline_platform.validator.conventions import IMAGE_TAG_PLACEHOLDER, expected_image, render_image_tag
from pipeline_platform.validator.fields import (
    Section,
    fields,
    read_section,
    schema_errors,
    suggestion,
    type_problems,
)
from pipeline_platform.yaml_document import Location
from pipelines.common.naming import SECRET_NAMES, WORK_POOLS, PipelineName


def work_pool(
    checker: Checker, pipeline: PipelineName | None, deployment: Section, environment: str | None
) -> str | None:
    """The work pool's name when it is valid (None otherwise, with the problems)."""
    value = deployment.get("work_pool")
    if not isinstance(value, dict):
        checker.problem(deployment.at("work_pool"), messages.work_pool_required(WORK_POOLS, value))
        return None
    pool, found = read_section(deployment.at("work_pool"), value, WorkPoolConfig, "")
    checker.report(found)
    checker.report(type_problems(pool, WorkPoolConfig, fields(WorkPoolConfig)))
    name = pool.get("name")
    template = None
    if not name:
        checker.problem(pool.at("name"), f"a work pool name is required (one of {', '.join(WORK_POOLS)})")
    elif not isinstance(name, str):
        pass  # reported with the types
    elif name not in WORK_POOLS:
        checker.problem(pool.at("name"), f"unknown work pool {name!r}: use one of {', '.join(WORK_POOLS)}")
    elif (template := checker.pool_templates.get(name)) is None:
        checker.problem(pool.at("name"), f"work pool {name!r} has no committed base job template")
    variables = pool.get("job_variables")
    where = pool.at("job_variables")
    if variables is None:
        checker.problem(where, messages.job_variables_required(expected_image(pipeline), environment))
        return None
    if not isinstance(variables, dict):
        return None  # reported with the types
    job_variables: Mapping[Any, Any] = variables
    if template is not None:
        with checker.guard(where, "the job variables"):
            _declared_job_variables(checker, where, str(name), template, job_variables)
    if environment is not None and job_variables.get("secretName") != SECRET_NAMES[environment]:
        checker.problem(
            (*where, "secretName"),
            f"secretName must be {SECRET_NAMES[environment]!r} for {environment}, "
            f"not {job_variables.get('secretName')!r}",
        )
    with checker.guard((*where, "image"), "the image"):
        _image(checker, pipeline, (*where, "image"), job_variables.get("image"))
    return name if template is not None else None


def _declared_job_variables(
    checker: Checker,
    where: Location,
    pool: str,
    template: Mapping[str, Any],
    job_variables: Mapping[Any, Any],
) -> None:
    variables: Mapping[str, Any] = template["variables"]
    declared = list(variables.get("properties", {}))
    for key in job_variables:
        if key not in declared:
            checker.problem(
                (*where, str(key)),
                f"job variable {key!r} is not declared by the {pool} template"
                f"{suggestion(str(key), declared)}; the server would accept and ignore it",
            )
    checkable = {key: value for key, value in job_variables.items() if key in declared and key != "image"}
    for path, message in schema_errors(checkable, variables):
        checker.problem((*where, *path), f"invalid job variable: {message}")


def _image(checker: Checker, pipeline: PipelineName | None, location: Location, image: Any) -> None:
    name = pipeline.image_name if pipeline is not None else None
    rendered = render_image_tag(image, "<tag>") if isinstance(image, str) else None
    if name is not None and rendered == f"{name}:<tag>":
        return
    if (
        name is None
        and isinstance(rendered, str)
        and rendered.endswith(":<tag>")
        and not find_placeholders(rendered)
        and "<tag>" not in rendered[: -len("<tag>")]
    ):
        return  # the directory's name is rejected: any image name, but the tag must be the deploy tool's
    expected = expected_image(pipeline)
    reason = f"image must be {expected!r} (the deploy tool puts the built reference there), not {image!r}"
    if isinstance(image, str) and (why := messages.placeholders(image, allowed={IMAGE_TAG_PLACEHOLDER})):
        reason += f"; {why}"
    checker.problem(location, reason)
