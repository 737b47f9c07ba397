"""A pipeline's prefect.yaml, read with Prefect's own models and checked against the repository's rules.

``validate_pipeline(pipeline_dir)`` lists every problem (file, line and reason), sorted by file and line;
``load_pipeline(pipeline_dir)`` returns the deployments ready to register, or raises ``SpecError`` with the
same problems. Rules, beyond what Prefect's models accept (one module of ``validator/`` per group):

- the file (``document``): a YAML mapping, named after its directory, with the one pull step and no build or
  push steps;
- no unknown keys at any level (Prefect ignores them: a typo such as ``job_variable:`` would deploy silently
  without job variables); a misspelt key is still checked as the key it resembles (``fields``);
- deployment names ``rj-<sec>--<name>--<env>`` (pipelines.common.naming), one per environment at most
  (``names``, with the unsupported keys and placeholders);
- the entrypoint is a ``@flow`` function in a file of the pipeline; parameters (of the deployment and of each
  schedule) are accepted by its signature, read from the source without importing it; a required parameter is
  given by the deployment or by every schedule (``flow``);
- a work pool of ``WORK_POOLS`` with a committed base job template, job variables declared by that template
  and valid for it, ``secretName`` of the environment, ``image`` ``<image name>:{{ $IMAGE_TAG }}``
  (``work_pool``);
- schedules (``schedules:``, a list) with a valid cron (or interval/rrule) and an explicit IANA timezone
  (``schedules``);
- no template placeholder other than ``{{ $IMAGE_TAG }}``.

Every rule is checked on its own: a broken one never hides another (the environment comes from the name's
``--prod``/``--staging`` even when the rest of the name is wrong, so ``secretName`` is always checked), and
nothing a user writes makes the validator raise.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect.client.schemas.actions import DeploymentScheduleCreate

from pipeline_platform.pools import PoolTemplates, load_pool_templates
from pipeline_platform.prefect_internals import (
    DeploymentConfig,
    PrefectYamlModel,
    schedule_config_to_deployment_schedule,
)
from pipeline_platform.problems import Problem, SpecError, sorted_problems
from pipeline_platform.repo import DEPLOYMENTS_FILE, PIPELINES_DIR
from pipeline_platform.validator import document, flow, messages, names, schedules, source, work_pool
from pipeline_platform.validator.checker import Checker
from pipeline_platform.validator.conventions import PULL_STEPS, UNSUPPORTED_KEYS, render_image_tag
from pipeline_platform.validator.fields import fields, read_section, type_problems
from pipeline_platform.yaml_document import Location, read_yaml
from pipelines.common.naming import NamingError, PipelineName

__all__ = [
    "DeploymentSpec",
    "PipelineSpec",
    "Problem",
    "SpecError",
    "deployment_names",
    "load_pipeline",
    "load_specs",
    "read_pipeline",
    "render_image_tag",
    "validate_pipeline",
]

# Fields checked by their own rule, not by the type in Prefect's model.
_OWN_RULES = {"name", "entrypoint", "schedule", "schedules", "work_pool", *UNSUPPORTED_KEYS}


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment of a prefect.yaml, validated; ``job_variables`` still hold ``{{ $IMAGE_TAG }}``."""

    pipeline: PipelineName
    environment: str
    name: str
    flow_name: str
    entrypoint: str
    work_pool: str
    work_queue: str | None
    job_variables: Mapping[str, Any]
    parameters: Mapping[str, Any]
    schedules: tuple[Mapping[str, Any], ...]
    parameter_schema: Mapping[str, Any]
    description: str | None = None
    tags: tuple[str, ...] = ()
    paused: bool = False
    enforce_parameter_schema: bool | None = None
    concurrency_limit: int | None = None
    pull_steps: tuple[Mapping[str, Any], ...] = field(default_factory=lambda: tuple(PULL_STEPS))

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"

    def schedule_objects(self) -> list[DeploymentScheduleCreate]:
        return [
            DeploymentScheduleCreate(**schedule_config_to_deployment_schedule(dict(schedule)))
            for schedule in self.schedules
        ]

    def rendered_job_variables(self, image_tag: str, image: str | None = None) -> dict[str, Any]:
        """Job variables with ``{{ $IMAGE_TAG }}`` rendered, and ``image`` (the built reference) if given."""
        rendered: dict[str, Any] = render_image_tag(dict(self.job_variables), image_tag)
        if image is not None:
            rendered["image"] = image
        return rendered


@dataclass(frozen=True)
class PipelineSpec:
    pipeline: PipelineName
    directory: Path
    deployments: tuple[DeploymentSpec, ...]

    def for_environment(self, environment: str) -> tuple[DeploymentSpec, ...]:
        return tuple(item for item in self.deployments if item.environment == environment)


def validate_pipeline(pipeline_dir: Path, pool_templates: PoolTemplates | None = None) -> list[Problem]:
    """Every problem of the pipeline's prefect.yaml (empty when it can be deployed), by file and line."""
    return _load(Path(pipeline_dir), pool_templates)[1]


def read_pipeline(
    pipeline_dir: Path, pool_templates: PoolTemplates | None = None
) -> tuple[PipelineSpec | None, list[Problem]]:
    """Its spec when the prefect.yaml can be deployed (else None), and every problem: one validation."""
    return _load(Path(pipeline_dir), pool_templates)


def load_pipeline(pipeline_dir: Path, pool_templates: PoolTemplates | None = None) -> PipelineSpec:
    spec, problems = _load(Path(pipeline_dir), pool_templates)
    if problems or spec is None:
        raise SpecError(problems)
    return spec


def load_specs(repo: Path, names: Sequence[str]) -> tuple[dict[str, PipelineSpec], list[Problem]]:
    """The specs of the pipelines ``names`` that are valid, and the problems of the others."""
    templates = load_pool_templates(repo)
    specs: dict[str, PipelineSpec] = {}
    problems: list[Problem] = []
    for name in names:
        try:
            specs[name] = load_pipeline(repo / PIPELINES_DIR / name, templates)
        except SpecError as error:
            problems.extend(error.problems)
    return specs, problems


def deployment_names(pipeline_dir: Path) -> list[str]:
    """Names of the deployments a prefect.yaml declares, read without validating it (for pruning)."""
    path = Path(pipeline_dir) / DEPLOYMENTS_FILE
    document = read_yaml(path)
    raw = document.data
    deployments = raw.get("deployments") if isinstance(raw, dict) else None
    if not isinstance(deployments, list):
        found = [Problem(str(path), reason, line) for line, reason in document.problems]
        raise SpecError(found or [Problem(str(path), "no `deployments:` list")])
    return [str(item["name"]) for item in deployments if isinstance(item, dict) and item.get("name")]


def _load(
    pipeline_dir: Path, pool_templates: PoolTemplates | None
) -> tuple[PipelineSpec | None, list[Problem]]:
    checker = Checker(pipeline_dir, pool_templates)
    spec = None
    with checker.guard((), "the prefect.yaml"):
        spec = _pipeline(checker)
    problems = sorted_problems(checker.problems)
    return (None, problems) if problems or spec is None else (spec, [])


@dataclass
class _Deployment:
    environment: str | None
    spec: DeploymentSpec | None


def _pipeline(checker: Checker) -> PipelineSpec | None:
    pipeline = _pipeline_name(checker)
    raw = document.read_document(checker)
    if raw is None:
        return None
    top, found = read_section((), raw, PrefectYamlModel, "")
    checker.report(found)
    with checker.guard((), "the top-level keys"):
        document.check_top_level(checker, top)
    deployments: list[DeploymentSpec] = []
    seen: dict[str, int] = {}
    items = top.get("deployments")
    for index, item in enumerate(items if isinstance(items, list) else []):
        here = (*top.at("deployments"), index)
        result = _Deployment(None, None)
        with checker.guard(here, "this deployment"):
            result = _deployment(checker, pipeline, here, item)
        if result.environment is not None:
            if result.environment in seen:
                checker.problem(
                    (*here, "name"),
                    f"a second deployment for {result.environment!r} (the first is deployments"
                    f"[{seen[result.environment]}]): one deployment per environment",
                )
            seen.setdefault(result.environment, index)
        if result.spec is not None:
            deployments.append(result.spec)
    if checker.problems or pipeline is None:
        return None
    return PipelineSpec(pipeline, checker.pipeline_dir, tuple(deployments))


def _pipeline_name(checker: Checker) -> PipelineName | None:
    try:
        return PipelineName.from_dir(checker.dir_name)
    except NamingError as error:
        # The same problem, path and reason as the conventions' layout check (the lint shows it once).
        checker.problems.append(Problem(f"{checker.pipeline_dir}/", str(error)))
        return None


def _deployment(checker: Checker, pipeline: PipelineName | None, here: Location, raw: Any) -> _Deployment:
    """Every rule group on one deployment, each on its own; its spec when none found a problem."""
    if not isinstance(raw, dict):
        checker.problem(here, f"each deployment must be a mapping, not {messages.kind(raw)}")
        return _Deployment(None, None)
    before = len(checker.problems)
    deployment, found = read_section(here, raw, DeploymentConfig, "")
    checker.report(found)
    with checker.guard(here, "the types of this deployment's values"):
        own = [name for name in fields(DeploymentConfig) if name not in _OWN_RULES]
        checker.report(type_problems(deployment, DeploymentConfig, own))
    environment, exact = None, False
    with checker.guard(deployment.at("name"), "the deployment name"):
        environment, exact = names.environment(checker, pipeline, deployment)
    with checker.guard(here, "the keys this repository does not use"):
        names.unsupported_keys(checker, deployment)
    with checker.guard(here, "the placeholders"):
        names.placeholders(checker, deployment)
    entrypoint, signature = None, None
    with checker.guard(deployment.at("entrypoint"), "the entrypoint"):
        entrypoint, signature = flow.entrypoint(checker, deployment)
    schema = (
        copy.deepcopy(signature.schema) if signature is not None and signature.schema is not None else None
    )
    valid_schedules: list[dict[str, Any]] | None = None
    with checker.guard(deployment.at("schedules"), "the schedules"):
        valid_schedules = schedules.schedules(checker, deployment, schema)
    with checker.guard(deployment.at("parameters"), "the parameters"):
        flow.deployment_parameters(checker, deployment, schema)
    with checker.guard(deployment.at("parameters"), "the source"):
        source.source(checker, deployment, schema, environment)
    pool = None
    with checker.guard(deployment.at("work_pool"), "the work pool"):
        pool = work_pool.work_pool(checker, pipeline, deployment, environment)
    if len(checker.problems) > before or not exact or pipeline is None:
        return _Deployment(environment, None)
    if None in (environment, entrypoint, signature, schema, valid_schedules, pool):
        return _Deployment(environment, None)
    assert environment and signature and signature.name and schema is not None and valid_schedules is not None
    return _Deployment(
        environment, _spec(pipeline, raw, environment, signature.name, schema, valid_schedules)
    )


def _spec(
    pipeline: PipelineName,
    raw: dict[str, Any],
    environment: str,
    flow_name: str,
    schema: dict[str, Any],
    valid_schedules: list[dict[str, Any]],
) -> DeploymentSpec:
    config = DeploymentConfig.model_validate({**raw, "schedules": None})
    assert config.name is not None and config.entrypoint and config.work_pool and config.work_pool.name
    tags = [config.tags] if isinstance(config.tags, str) else list(config.tags or [])
    return DeploymentSpec(
        pipeline=pipeline,
        environment=environment,
        name=config.name,
        flow_name=flow_name,
        entrypoint=config.entrypoint,
        work_pool=config.work_pool.name,
        work_queue=config.work_pool.work_queue_name,
        job_variables=dict(config.work_pool.job_variables),
        parameters=dict(config.parameters),
        schedules=tuple(valid_schedules),
        parameter_schema=schema,
        description=config.description,
        tags=tuple(str(tag) for tag in tags),
        paused=bool(config.paused),
        enforce_parameter_schema=config.enforce_parameter_schema,
        concurrency_limit=config.concurrency_limit if isinstance(config.concurrency_limit, int) else None,
    )
