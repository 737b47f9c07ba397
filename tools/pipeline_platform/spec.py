"""A pipeline's prefect.yaml, read with Prefect's own models and checked against the repository's rules.

``validate_pipeline(pipeline_dir)`` lists every problem (file, line and reason), sorted by file and line;
``load_pipeline(pipeline_dir)`` returns the deployments ready to register, or raises ``SpecError`` with the
same problems. Rules, beyond what Prefect's models accept:

- no unknown keys at any level (Prefect ignores them: a typo such as ``job_variable:`` would deploy silently
  without job variables); a misspelt key is still checked as the key it resembles;
- deployment names ``rj-<sec>--<name>--<env>`` (pipelines.common.naming), one per environment at most;
- the entrypoint is a ``@flow`` function in a file of the pipeline; parameters (of the deployment and of each
  schedule) are accepted by its signature, read from the source without importing it; a required parameter is
  given by the deployment or by every schedule;
- a work pool of ``WORK_POOLS`` with a committed base job template, job variables declared by that template
  and valid for it, ``secretName`` of the environment, ``image`` ``<image name>:{{ $IMAGE_TAG }}``;
- schedules (``schedules:``, a list) with a valid cron (or interval/rrule) and an explicit IANA timezone;
- no build/push steps (images are built by Pants) and the pull step that enters the image's /opt/prefect;
- no template placeholder other than ``{{ $IMAGE_TAG }}``.

Every rule is checked on its own: a broken one never hides another (the environment comes from the name's
``--prod``/``--staging`` even when the rest of the name is wrong, so ``secretName`` is always checked), and
nothing a user writes makes the validator raise.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect.cli.deploy._models import DeploymentConfig, PrefectYamlModel, RawScheduleConfig, WorkPoolConfig
from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.utilities.templating import find_placeholders

# Prefect's models are pydantic models; pydantic comes with the prefect requirement.
from pydantic import ValidationError  # pants: no-infer-dep

from pipeline_platform import spec_messages as messages
from pipeline_platform.flow_source import FlowFile, FlowSignature, find_flow, flow_signature, read_flow_file
from pipeline_platform.pools import POOLS_DIR, PoolTemplates, load_pool_templates
from pipeline_platform.problems import Problem, SpecError, sorted_problems
from pipeline_platform.repo import DEPLOYMENTS_FILE
from pipeline_platform.spec_fields import (
    Found,
    Section,
    error_messages,
    fields,
    format_location,
    read_section,
    schema_errors,
    strings,
    suggestion,
    type_problems,
)
from pipeline_platform.yaml_document import Location, YamlDocument, read_yaml
from pipelines.common.naming import ENVIRONMENTS, SECRET_NAMES, WORK_POOLS, NamingError, PipelineName

__all__ = [
    "DeploymentSpec",
    "PipelineSpec",
    "Problem",
    "SpecError",
    "deployment_names",
    "load_pipeline",
    "render_image_tag",
    "validate_pipeline",
]

IMAGE_TAG_PLACEHOLDER = "$IMAGE_TAG"
IMAGE_WORKDIR = "/opt/prefect"
PULL_STEPS: list[dict[str, Any]] = [
    {"prefect.deployments.steps.set_working_directory": {"directory": IMAGE_WORKDIR}}
]
# Keys of a deployment that this repository does not use, and why (`schedule:` has its own message).
UNSUPPORTED_KEYS = {
    "build": "images are built by Pants",
    "push": "images are pushed by the deploy tool",
    "pull": "the top-level `pull:` step applies to every deployment",
    "triggers": "the deploy tool does not register triggers",
    "sla": "the deploy tool does not register SLAs",
    "flow_name": "the flow's name comes from the entrypoint's @flow",
}
# Fields checked by their own rule, not by the type in Prefect's model.
_OWN_RULES = {"name", "entrypoint", "schedule", "schedules", "work_pool", *UNSUPPORTED_KEYS}
_ENVIRONMENT_WORD = re.compile(rf"(?:^|[^a-z0-9])({'|'.join(ENVIRONMENTS)})(?=$|[^a-z0-9])")


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
            DeploymentScheduleCreate(**_schedule_config_to_deployment_schedule(dict(schedule)))
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
    return _Loader(Path(pipeline_dir), pool_templates).load()[1]


def load_pipeline(pipeline_dir: Path, pool_templates: PoolTemplates | None = None) -> PipelineSpec:
    spec, problems = _Loader(Path(pipeline_dir), pool_templates).load()
    if problems or spec is None:
        raise SpecError(problems)
    return spec


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


def render_image_tag(value: Any, image_tag: str) -> Any:
    """``value`` with every ``{{ $IMAGE_TAG }}`` replaced by ``image_tag`` (recursively)."""
    if isinstance(value, str):
        for placeholder in find_placeholders(value):
            if placeholder.name == IMAGE_TAG_PLACEHOLDER:
                value = value.replace(placeholder.full_match, image_tag)
        return value
    if isinstance(value, dict):
        return {key: render_image_tag(item, image_tag) for key, item in value.items()}
    if isinstance(value, list):
        return [render_image_tag(item, image_tag) for item in value]
    return value


@dataclass
class _Deployment:
    environment: str | None
    spec: DeploymentSpec | None


class _Loader:
    """Collects the problems of one prefect.yaml while building its specs."""

    def __init__(self, pipeline_dir: Path, pool_templates: PoolTemplates | None) -> None:
        self.pipeline_dir = pipeline_dir
        self.file = pipeline_dir / DEPLOYMENTS_FILE
        # Not resolve(): a symlink loop must be a problem, not an error; entrypoints are relative to the root.
        absolute = Path(os.path.abspath(pipeline_dir))
        self.dir_name = absolute.name
        self.repo_root = absolute.parent.parent
        self._pool_templates = pool_templates
        self.problems: list[Problem] = []
        self.document = YamlDocument()
        self.flow_files: dict[Path, FlowFile] = {}

    def load(self) -> tuple[PipelineSpec | None, list[Problem]]:
        spec = None
        with self.guard((), "the prefect.yaml"):
            spec = self._load()
        problems = sorted_problems(self.problems)
        return (None, problems) if problems or spec is None else (spec, [])

    # --- reporting

    def problem(self, location: Location, reason: str) -> None:
        where = format_location(location)
        self.problems.append(
            Problem(str(self.file), f"{where}: {reason}" if where else reason, self.document.line(location))
        )

    @contextlib.contextmanager
    def guard(self, location: Location, part: str) -> Iterator[None]:
        """A bug of a rule becomes a problem of the part it was checking; the other rules still run."""
        try:
            yield
        except Exception as error:  # the validator must never raise on what users write
            self.problem(location, messages.internal_error(part, error))

    @property
    def pool_templates(self) -> PoolTemplates:
        if self._pool_templates is None:
            try:
                self._pool_templates = load_pool_templates(self.repo_root)
            except (OSError, ValueError) as error:
                self.problems.append(
                    Problem(str(self.repo_root / POOLS_DIR), f"cannot read the work pool templates: {error}")
                )
                self._pool_templates = {}
        return self._pool_templates

    # --- the file

    def _load(self) -> PipelineSpec | None:
        pipeline = self._pipeline_name()
        raw = self._read()
        if raw is None:
            return None
        top, found = read_section((), raw, PrefectYamlModel, "")
        self.report(found)
        with self.guard((), "the top-level keys"):
            self._check_top_level(top)
        deployments: list[DeploymentSpec] = []
        seen: dict[str, int] = {}
        items = top.get("deployments")
        for index, item in enumerate(items if isinstance(items, list) else []):
            here = (*top.at("deployments"), index)
            result = _Deployment(None, None)
            with self.guard(here, "this deployment"):
                result = self._deployment(pipeline, here, item)
            if result.environment is not None:
                if result.environment in seen:
                    self.problem(
                        (*here, "name"),
                        f"a second deployment for {result.environment!r} (the first is deployments"
                        f"[{seen[result.environment]}]): one deployment per environment",
                    )
                seen.setdefault(result.environment, index)
            if result.spec is not None:
                deployments.append(result.spec)
        if self.problems or pipeline is None:
            return None
        return PipelineSpec(pipeline, self.pipeline_dir, tuple(deployments))

    def _pipeline_name(self) -> PipelineName | None:
        try:
            return PipelineName.from_dir(self.dir_name)
        except NamingError as error:
            # The same problem, path and reason as the conventions' layout check (the lint shows it once).
            self.problems.append(Problem(f"{self.pipeline_dir}/", str(error)))
            return None

    def _read(self) -> dict[Any, Any] | None:
        if not os.path.lexists(self.file):
            self.problems.append(
                Problem(str(self.file), "missing: every pipeline declares its deployments here")
            )
            return None
        if not self.file.is_file():  # a directory, a FIFO (reading would block), a link to nothing
            what = "a link to a file that does not exist" if not self.file.exists() else "not a file"
            self.problems.append(Problem(str(self.file), f"cannot be read: it is {what}"))
            return None
        self.document = read_yaml(self.file)
        for line, reason in self.document.problems:
            self.problems.append(Problem(str(self.file), reason, line))
        raw = self.document.data
        if not self.document.readable:
            return None
        if raw is None:
            self.problem((), messages.EMPTY_FILE)
            return None
        if not isinstance(raw, dict):
            self.problem((), f"{messages.NOT_A_MAPPING}, not {messages.kind(raw)}")
            return None
        return raw

    def _check_top_level(self, top: Section) -> None:
        self.report(type_problems(top, PrefectYamlModel, ["prefect-version"]))
        if top.get("name") != self.dir_name:
            self.problem(
                top.at("name"), f"must be the directory name {self.dir_name!r}, not {top.get('name')!r}"
            )
        for action in ("build", "push"):
            if top.get(action):
                self.problem(
                    top.at(action),
                    f"`{action}:` steps are not run here: images are built and pushed by Pants "
                    f"(leave `{action}: null`)",
                )
        if top.get("pull") != PULL_STEPS:
            self.problem(
                top.at("pull"),
                f"must be exactly one set_working_directory step to {IMAGE_WORKDIR} (where the image keeps "
                "the sources)",
            )
        deployments = top.get("deployments")
        if isinstance(deployments, dict):
            self.problem(top.at("deployments"), messages.MAPPING_NOT_LIST.format(what="deployment"))
        elif not isinstance(deployments, list) or not deployments:
            self.problem(top.at("deployments"), "must list at least one deployment")

    # --- one deployment: every rule on its own

    def _deployment(self, pipeline: PipelineName | None, here: Location, raw: Any) -> _Deployment:
        if not isinstance(raw, dict):
            self.problem(here, f"each deployment must be a mapping, not {messages.kind(raw)}")
            return _Deployment(None, None)
        before = len(self.problems)
        deployment, found = read_section(here, raw, DeploymentConfig, "")
        self.report(found)
        with self.guard(here, "the types of this deployment's values"):
            own = [name for name in fields(DeploymentConfig) if name not in _OWN_RULES]
            self.report(type_problems(deployment, DeploymentConfig, own))
        environment, exact = None, False
        with self.guard(deployment.at("name"), "the deployment name"):
            environment, exact = self._environment(pipeline, deployment)
        with self.guard(here, "the keys this repository does not use"):
            self._unsupported_keys(deployment)
        with self.guard(here, "the placeholders"):
            self._placeholders(deployment)
        entrypoint, flow = None, None
        with self.guard(deployment.at("entrypoint"), "the entrypoint"):
            entrypoint, flow = self._entrypoint(deployment)
        schema = copy.deepcopy(flow.schema) if flow is not None and flow.schema is not None else None
        schedules: list[dict[str, Any]] | None = None
        with self.guard(deployment.at("schedules"), "the schedules"):
            schedules = self._schedules(deployment, schema)
        with self.guard(deployment.at("parameters"), "the parameters"):
            self._deployment_parameters(deployment, schema)
        work_pool = None
        with self.guard(deployment.at("work_pool"), "the work pool"):
            work_pool = self._work_pool(pipeline, deployment, environment)
        if len(self.problems) > before or not exact or pipeline is None:
            return _Deployment(environment, None)
        if None in (environment, entrypoint, flow, schema, schedules, work_pool):
            return _Deployment(environment, None)
        assert (
            environment and entrypoint and flow and flow.name and schema is not None and schedules is not None
        )
        assert work_pool is not None
        return _Deployment(environment, self._spec(pipeline, raw, environment, flow.name, schema, schedules))

    def _spec(
        self,
        pipeline: PipelineName,
        raw: dict[str, Any],
        environment: str,
        flow_name: str,
        schema: dict[str, Any],
        schedules: list[dict[str, Any]],
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
            schedules=tuple(schedules),
            parameter_schema=schema,
            description=config.description,
            tags=tuple(str(tag) for tag in tags),
            paused=bool(config.paused),
            enforce_parameter_schema=config.enforce_parameter_schema,
            concurrency_limit=config.concurrency_limit if isinstance(config.concurrency_limit, int) else None,
        )

    def _environment(self, pipeline: PipelineName | None, deployment: Section) -> tuple[str | None, bool]:
        """The deployment's environment, and whether its name is exactly the expected one. The environment
        comes from the name's ``prod``/``staging`` word even when the rest of the name is wrong."""
        name = deployment.get("name")
        expected = {pipeline.deployment_name(env): env for env in ENVIRONMENTS} if pipeline else {}
        if isinstance(name, str) and name in expected:
            return expected[name], True
        words = set(_ENVIRONMENT_WORD.findall(name.lower())) if isinstance(name, str) else set()
        environment = words.pop() if len(words) == 1 else None
        pattern = "(rj-<secretaria>--<pipeline>--<environment>)"
        if pipeline is None:
            if environment is None:
                self.problem(
                    deployment.at("name"),
                    f"deployment name {name!r} must end in --{' or --'.join(ENVIRONMENTS)} {pattern}",
                )
        elif environment is not None:
            self.problem(
                deployment.at("name"),
                f"deployment name {name!r} must be {pipeline.deployment_name(environment)!r} {pattern}",
            )
        else:
            self.problem(
                deployment.at("name"),
                f"deployment name {name!r} must be one of {', '.join(sorted(expected))} {pattern}",
            )
        return environment, False

    def _unsupported_keys(self, deployment: Section) -> None:
        schedule = deployment.get("schedule")
        if schedule is not None:
            both = deployment.get("schedules") is not None
            self.problem(deployment.at("schedule"), messages.singular_schedule(schedule, both))
        for key, why in UNSUPPORTED_KEYS.items():
            if deployment.get(key) is not None:
                self.problem(
                    deployment.at(key), f"`{key}:` is not supported in this repository's deployments: {why}"
                )

    def _placeholders(self, deployment: Section) -> None:
        image = (*deployment.at("work_pool"), "job_variables", "image")
        for location, value in strings(deployment.raw, deployment.location):
            if location[: len(image)] == image and len(location) == len(image):
                continue  # the image rule explains its placeholders, in one message
            reasons = messages.placeholders(value, allowed={IMAGE_TAG_PLACEHOLDER})
            if reasons:
                self.problem(location, reasons)

    # --- entrypoint and flow

    def _entrypoint(self, deployment: Section) -> tuple[str | None, FlowSignature | None]:
        location = deployment.at("entrypoint")
        entrypoint = deployment.get("entrypoint")
        expected_dir = f"pipelines/{self.dir_name}/"
        if not isinstance(entrypoint, str) or ":" not in entrypoint:
            self.problem(
                location,
                f"entrypoint must read `{expected_dir}flow.py:{self.dir_name}`, not {entrypoint!r}",
            )
            return None, None
        path, _, function = entrypoint.rpartition(":")
        if not path.startswith(expected_dir) or ".." in Path(path).parts:
            self.problem(location, f"entrypoint {entrypoint!r} must be a file under {expected_dir}")
            return None, None
        if not path.isprintable():
            self.problem(location, f"entrypoint {entrypoint!r} holds characters no file name has")
            return None, None
        source = self.repo_root / path
        if not source.is_file():
            missing = "is not a file" if source.exists() else "does not exist"
            self.problem(location, f"entrypoint file {path} {missing}")
            return None, None
        if source not in self.flow_files:
            self.flow_files[source] = read_flow_file(source)
        flow_file = self.flow_files[source]
        shown = str(self.pipeline_dir / path[len(expected_dir) :])
        self.problems.extend(Problem(shown, reason, line) for line, reason in flow_file.problems)
        if flow_file.tree is None:
            return entrypoint, None
        node, why = find_flow(flow_file, function)
        if node is None:
            self.problem(location, f"{path} {why}")
            return entrypoint, None
        signature = flow_signature(flow_file, node)
        self.problems.extend(Problem(shown, reason, line) for line, reason in signature.problems)
        return entrypoint, signature

    def _deployment_parameters(self, deployment: Section, schema: Mapping[str, Any] | None) -> None:
        parameters = deployment.get("parameters")
        if schema is None or not isinstance(parameters, dict | None):
            return  # no signature to check against, or not a mapping (reported with the types)
        given = parameters or {}
        self._parameters(deployment.at("parameters"), given, schema)
        schedules = deployment.get("schedules")
        if schedules is None:
            schedule = deployment.get("schedule")
            schedules = [schedule] if isinstance(schedule, dict) else schedule
        scheduled = [_schedule_parameters(item) for item in schedules] if isinstance(schedules, list) else []
        for name in schema.get("required", []):
            if name in given:
                continue
            lacking = [position for position, values in enumerate(scheduled) if name not in values]
            if scheduled and not lacking:
                continue  # every schedule gives it: Prefect accepts the deployment
            self.problem(
                deployment.at("parameters"), messages.required_parameter(name, len(scheduled), lacking)
            )

    def _parameters(
        self, location: Location, parameters: Mapping[str, Any], schema: Mapping[str, Any]
    ) -> None:
        accepted = list(schema.get("properties", {}))
        for name in parameters:
            if name not in accepted:
                self.problem(
                    (*location, str(name)),
                    f"parameter {name!r} is not accepted by the flow{suggestion(str(name), accepted)} "
                    f"(it accepts: {', '.join(accepted) or 'no parameters'})",
                )
        known = {name: value for name, value in parameters.items() if name in accepted}
        for path, message in schema_errors(known, schema):
            self.problem((*location, *path), f"invalid value for the flow's signature: {message}")

    # --- schedules

    def _schedules(
        self, deployment: Section, schema: Mapping[str, Any] | None
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
            self.problem(
                deployment.at(key), what or f"must be a list of schedules, not {messages.kind(value)}"
            )
            return None
        single = key == "schedule" and isinstance(deployment.get(key), dict)
        schedules: list[dict[str, Any]] = []
        for position, item in enumerate(value):
            location = deployment.at(key) if single else (*deployment.at(key), position)
            with self.guard(location, "this schedule"):
                schedule = self._schedule(location, item, schema)
                if schedule is not None:
                    schedules.append(schedule)
        return schedules if len(schedules) == len(value) else None

    def _schedule(
        self, location: Location, raw: Any, schema: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            self.problem(
                location,
                f"each schedule must be a mapping (`cron:`, `timezone:`...), not {messages.kind(raw)}",
            )
            return None
        before = len(self.problems)
        schedule, found = read_section(location, raw, RawScheduleConfig, "schedule")
        self.report(found)
        self.report(type_problems(schedule, RawScheduleConfig, fields(RawScheduleConfig)))
        typed_ok = len(self.problems) == before
        values = {
            name: schedule.get(name) for name in fields(RawScheduleConfig) if schedule.get(name) is not None
        }
        kinds = [name for name in ("cron", "interval", "rrule") if name in values]
        if len(kinds) != 1:
            self.problem(location, messages.schedule_kinds(kinds))
        if values.get("timezone") is None:
            self.problem(location, "every schedule needs an explicit `timezone:` (e.g. America/Sao_Paulo)")
        elif typed_ok and len(kinds) == 1:
            try:
                DeploymentScheduleCreate(**_schedule_config_to_deployment_schedule(dict(values)))
            except (ValidationError, ValueError, TypeError, OverflowError) as error:
                for message in error_messages(error):
                    self.problem(location, message)
        parameters = schedule.get("parameters")
        if schema is not None and isinstance(parameters, dict):
            self._parameters(schedule.at("parameters"), parameters, schema)
        return dict(raw) if len(self.problems) == before else None

    # --- work pool

    def _work_pool(
        self, pipeline: PipelineName | None, deployment: Section, environment: str | None
    ) -> str | None:
        value = deployment.get("work_pool")
        if not isinstance(value, dict):
            self.problem(deployment.at("work_pool"), messages.work_pool_required(WORK_POOLS, value))
            return None
        pool, found = read_section(deployment.at("work_pool"), value, WorkPoolConfig, "")
        self.report(found)
        self.report(type_problems(pool, WorkPoolConfig, fields(WorkPoolConfig)))
        name = pool.get("name")
        template = None
        if not name:
            self.problem(pool.at("name"), f"a work pool name is required (one of {', '.join(WORK_POOLS)})")
        elif not isinstance(name, str):
            pass  # reported with the types
        elif name not in WORK_POOLS:
            self.problem(pool.at("name"), f"unknown work pool {name!r}: use one of {', '.join(WORK_POOLS)}")
        elif (template := self.pool_templates.get(name)) is None:
            self.problem(pool.at("name"), f"work pool {name!r} has no committed base job template")
        variables = pool.get("job_variables")
        where = pool.at("job_variables")
        if variables is None:
            self.problem(where, messages.job_variables_required(self._expected_image(pipeline), environment))
            return None
        if not isinstance(variables, dict):
            return None  # reported with the types
        job_variables: Mapping[Any, Any] = variables
        if template is not None:
            with self.guard(where, "the job variables"):
                self._declared_job_variables(where, str(name), template, job_variables)
        if environment is not None and job_variables.get("secretName") != SECRET_NAMES[environment]:
            self.problem(
                (*where, "secretName"),
                f"secretName must be {SECRET_NAMES[environment]!r} for {environment}, "
                f"not {job_variables.get('secretName')!r}",
            )
        with self.guard((*where, "image"), "the image"):
            self._image(pipeline, (*where, "image"), job_variables.get("image"))
        return name if template is not None else None

    def _declared_job_variables(
        self, where: Location, pool: str, template: Mapping[str, Any], job_variables: Mapping[Any, Any]
    ) -> None:
        variables: Mapping[str, Any] = template["variables"]
        declared = list(variables.get("properties", {}))
        for key in job_variables:
            if key not in declared:
                self.problem(
                    (*where, str(key)),
                    f"job variable {key!r} is not declared by the {pool} template"
                    f"{suggestion(str(key), declared)}; the server would accept and ignore it",
                )
        checkable = {key: value for key, value in job_variables.items() if key in declared and key != "image"}
        for path, message in schema_errors(checkable, variables):
            self.problem((*where, *path), f"invalid job variable: {message}")

    def _image(self, pipeline: PipelineName | None, location: Location, image: Any) -> None:
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
        expected = self._expected_image(pipeline)
        reason = f"image must be {expected!r} (the deploy tool puts the built reference there), not {image!r}"
        if isinstance(image, str) and (why := messages.placeholders(image, allowed={IMAGE_TAG_PLACEHOLDER})):
            reason += f"; {why}"
        self.problem(location, reason)

    @staticmethod
    def _expected_image(pipeline: PipelineName | None) -> str:
        name = pipeline.image_name if pipeline is not None else "<image name>"
        return f"{name}:{{{{ {IMAGE_TAG_PLACEHOLDER} }}}}"

    # --- shared by the rules

    def report(self, found: Found) -> None:
        for location, reason in found:
            self.problem(location, reason)


def _schedule_parameters(schedule: Any) -> Mapping[Any, Any]:
    if not isinstance(schedule, dict):
        return {}
    parameters = schedule.get("parameters")
    return parameters if isinstance(parameters, dict) else {}
