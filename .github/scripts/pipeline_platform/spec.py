"""A pipeline's prefect.yaml, read with Prefect's own models and checked against the repository's rules.

``validate_pipeline(pipeline_dir)`` lists every problem (file and reason); ``load_pipeline(pipeline_dir)``
returns the deployments ready to register, or raises ``SpecError`` with the same problems. Rules, beyond what
Prefect's models accept:

- no unknown keys at any level (Prefect ignores them: a typo such as ``job_variable:`` would deploy silently
  without job variables);
- deployment names ``rj-<sec>--<name>--<env>`` (pipelines.common.naming), one per environment at most;
- the entrypoint is a ``@flow`` function in a file of the pipeline; parameters (of the deployment and of each
  schedule) are accepted by its signature, read from the source without importing it;
- a work pool of ``WORK_POOLS`` with a committed base job template, job variables declared by that template
  and valid for it, ``secretName`` of the environment, ``image`` ``<image name>:{{ $IMAGE_TAG }}``;
- schedules with a valid cron (or interval/rrule) and an explicit, valid IANA timezone;
- no build/push steps (images are built by Pants) and the pull step that enters the image's /opt/prefect;
- no template placeholder other than ``{{ $IMAGE_TAG }}`` (Prefect renders an unset one as an empty string).
"""

from __future__ import annotations

import ast
import copy
import difflib
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from prefect.cli.deploy._models import DeploymentConfig, PrefectYamlModel, RawScheduleConfig, WorkPoolConfig
from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.flows import load_flow_arguments_from_entrypoint
from prefect.utilities.callables import parameter_schema_from_entrypoint
from prefect.utilities.schema_tools.validation import validate
from prefect.utilities.templating import find_placeholders

# Prefect's models are pydantic models; pydantic comes with the prefect requirement.
from pydantic import BaseModel, ValidationError  # pants: no-infer-dep

from pipeline_platform.pools import PoolTemplates, load_pool_templates
from pipeline_platform.repo import DEPLOYMENTS_FILE
from pipelines.common.naming import ENVIRONMENTS, SECRET_NAMES, WORK_POOLS, NamingError, PipelineName

IMAGE_TAG_PLACEHOLDER = "$IMAGE_TAG"
IMAGE_WORKDIR = "/opt/prefect"
PULL_STEPS: list[dict[str, Any]] = [
    {"prefect.deployments.steps.set_working_directory": {"directory": IMAGE_WORKDIR}}
]
Location = tuple[str | int, ...]
# libyaml's safe loader when PyYAML has it (several times faster), else the pure-Python one.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, order=True)
class Problem:
    """A broken rule: the file it is in and why, printed as ``path: reason``."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class SpecError(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


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
    """Every problem of the pipeline's prefect.yaml (empty when it can be deployed)."""
    return _Loader(Path(pipeline_dir), pool_templates).load()[1]


def load_pipeline(pipeline_dir: Path, pool_templates: PoolTemplates | None = None) -> PipelineSpec:
    spec, problems = _Loader(Path(pipeline_dir), pool_templates).load()
    if problems or spec is None:
        raise SpecError(problems)
    return spec


def deployment_names(pipeline_dir: Path) -> list[str]:
    """Names of the deployments a prefect.yaml declares, read without validating it (for pruning)."""
    raw = yaml.safe_load((Path(pipeline_dir) / DEPLOYMENTS_FILE).read_text())
    deployments = raw.get("deployments") if isinstance(raw, dict) else None
    if not isinstance(deployments, list):
        raise SpecError([Problem(str(Path(pipeline_dir) / DEPLOYMENTS_FILE), "no `deployments:` list")])
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


class _Loader:
    """Collects the problems of one prefect.yaml while building its specs."""

    def __init__(self, pipeline_dir: Path, pool_templates: PoolTemplates | None) -> None:
        self.pipeline_dir = pipeline_dir
        self.file = pipeline_dir / DEPLOYMENTS_FILE
        self.repo_root = pipeline_dir.resolve().parent.parent
        self._pool_templates = pool_templates
        self.problems: list[Problem] = []
        self.lines: dict[Location, int] = {}

    @property
    def pool_templates(self) -> PoolTemplates:
        if self._pool_templates is None:
            self._pool_templates = load_pool_templates(self.repo_root)
        return self._pool_templates

    def problem(self, location: Location, reason: str, path: Path | None = None) -> None:
        where = _format_location(location)
        line = self._line(location)
        prefix = ", ".join(part for part in (f"line {line}" if line else "", where) if part)
        self.problems.append(Problem(str(path or self.file), f"{prefix}: {reason}" if prefix else reason))

    def _line(self, location: Location) -> int | None:
        while location and location not in self.lines:
            location = location[:-1]
        return self.lines.get(location)

    def load(self) -> tuple[PipelineSpec | None, list[Problem]]:
        try:
            pipeline = PipelineName.from_dir(self.pipeline_dir.resolve().name)
        except NamingError as error:
            return None, [Problem(str(self.pipeline_dir), str(error))]
        raw = self._read()
        if raw is None:
            return None, self.problems
        self._check_top_level(raw, pipeline)
        deployments: list[DeploymentSpec] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(raw.get("deployments") or []):
            deployment = self._deployment(pipeline, index, item)
            if deployment is None:
                continue
            if deployment.environment in seen:
                self.problem(
                    ("deployments", index, "name"),
                    f"a second deployment for {deployment.environment!r} (the first is deployments"
                    f"[{seen[deployment.environment]}]): one deployment per environment",
                )
            seen.setdefault(deployment.environment, index)
            deployments.append(deployment)
        if self.problems:
            return None, sorted(set(self.problems), key=self.problems.index)
        return PipelineSpec(pipeline, self.pipeline_dir, tuple(deployments)), []

    def _read(self) -> dict[str, Any] | None:
        if not self.file.is_file():
            self.problems.append(
                Problem(str(self.file), "missing: every pipeline declares its deployments here")
            )
            return None
        text = self.file.read_text()
        try:
            self.lines = _line_index(text)
            raw = yaml.load(text, Loader=_LOADER)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            self.problems.append(Problem(str(self.file), f"{where}not valid YAML ({error})"))
            return None
        if not isinstance(raw, dict):
            self.problem((), "must be a mapping with a `deployments:` list")
            return None
        return raw

    def _check_top_level(self, raw: dict[str, Any], pipeline: PipelineName) -> None:
        self._unknown_keys((), raw, PrefectYamlModel)
        self._validate_model((), {**raw, "deployments": []}, PrefectYamlModel)
        if raw.get("name") != pipeline.dir_name:
            self.problem(
                ("name",), f"must be the directory name {pipeline.dir_name!r}, not {raw.get('name')!r}"
            )
        for action in ("build", "push"):
            if raw.get(action):
                self.problem(
                    (action,),
                    f"`{action}:` steps are not run here: images are built and pushed by Pants "
                    f"(leave `{action}: null`)",
                )
        if raw.get("pull") != PULL_STEPS:
            self.problem(
                ("pull",),
                f"must be exactly one set_working_directory step to {IMAGE_WORKDIR} (where the image keeps "
                "the sources)",
            )
        deployments = raw.get("deployments")
        if not isinstance(deployments, list) or not deployments:
            self.problem(("deployments",), "must list at least one deployment")

    def _deployment(self, pipeline: PipelineName, index: int, raw: Any) -> DeploymentSpec | None:
        here: Location = ("deployments", index)
        if not isinstance(raw, dict):
            self.problem(here, "each deployment must be a mapping")
            return None
        before = len(self.problems)
        self._unknown_keys(here, raw, DeploymentConfig)
        if isinstance(raw.get("work_pool"), dict):
            self._unknown_keys((*here, "work_pool"), raw["work_pool"], WorkPoolConfig)
        for position, schedule in enumerate(raw.get("schedules") or []):
            if isinstance(schedule, dict):
                self._unknown_keys((*here, "schedules", position), schedule, RawScheduleConfig)
        # Schedules are checked one by one against the strict RawScheduleConfig (fewer, clearer errors).
        config = self._validate_model(here, {**raw, "schedules": None}, DeploymentConfig)
        if config is None or len(self.problems) > before:
            return None
        assert isinstance(config, DeploymentConfig)
        return self._check_deployment(pipeline, here, raw, config)

    def _check_deployment(
        self, pipeline: PipelineName, here: Location, raw: dict[str, Any], config: DeploymentConfig
    ) -> DeploymentSpec | None:
        before = len(self.problems)
        environment = self._environment(pipeline, here, config.name)
        for key in ("schedule", "build", "push", "pull", "triggers", "sla", "flow_name"):
            if raw.get(key) is not None:
                self.problem((*here, key), f"`{key}:` is not supported in this repository's deployments")
        self._placeholders(here, raw)
        entrypoint = self._entrypoint(pipeline, here, config.entrypoint)
        flow_name, schema = self._flow(here, entrypoint) if entrypoint else (None, None)
        if schema is not None:
            self._parameters((*here, "parameters"), config.parameters, schema, required=True)
        schedules = self._schedules(here, raw.get("schedules"), config.parameters, schema)
        work_pool = self._work_pool(pipeline, here, config.work_pool, environment)
        if len(self.problems) > before or None in (environment, entrypoint, flow_name, schema, work_pool):
            return None
        assert environment and entrypoint and flow_name and schema is not None and config.work_pool
        assert config.name is not None and work_pool is not None
        tags = [config.tags] if isinstance(config.tags, str) else list(config.tags or [])
        return DeploymentSpec(
            pipeline=pipeline,
            environment=environment,
            name=config.name,
            flow_name=flow_name,
            entrypoint=entrypoint,
            work_pool=work_pool,
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

    def _environment(self, pipeline: PipelineName, here: Location, name: str | None) -> str | None:
        expected = {pipeline.deployment_name(environment): environment for environment in ENVIRONMENTS}
        if name in expected:
            return expected[name]
        self.problem(
            (*here, "name"),
            f"deployment name {name!r} must be one of {', '.join(sorted(expected))} "
            "(rj-<secretaria>--<pipeline>--<environment>)",
        )
        return None

    def _placeholders(self, here: Location, raw: dict[str, Any]) -> None:
        for location, value in _strings(raw, here):
            for placeholder in find_placeholders(value):
                if placeholder.name != IMAGE_TAG_PLACEHOLDER:
                    self.problem(
                        location,
                        f"placeholder {placeholder.full_match!r} is not supported: only "
                        "{{ $IMAGE_TAG }} (set by the deploy tool) is rendered; Prefect would render "
                        "anything else as an empty string when unset",
                    )

    def _entrypoint(self, pipeline: PipelineName, here: Location, entrypoint: str | None) -> str | None:
        location = (*here, "entrypoint")
        expected_dir = f"pipelines/{pipeline.dir_name}/"
        if not entrypoint or ":" not in entrypoint:
            self.problem(location, f"entrypoint must read `{expected_dir}flow.py:{pipeline.dir_name}`")
            return None
        path, _, function = entrypoint.rpartition(":")
        if not path.startswith(expected_dir) or ".." in Path(path).parts:
            self.problem(location, f"entrypoint {entrypoint!r} must be a file under {expected_dir}")
            return None
        source = self.repo_root / path
        if not source.is_file():
            self.problem(location, f"entrypoint file {path} does not exist")
            return None
        if not _is_flow_function(source.read_text(), function):
            self.problem(location, f"{path} has no function {function!r} decorated with @flow")
            return None
        return entrypoint

    def _flow(self, here: Location, entrypoint: str) -> tuple[str | None, dict[str, Any] | None]:
        path, _, function = entrypoint.rpartition(":")
        source = self.repo_root / path
        try:
            name, schema = _flow_signature(f"{source}:{function}", source.stat().st_mtime_ns)
        except (ValueError, SyntaxError) as error:
            self.problem((*here, "entrypoint"), f"cannot read the flow's signature: {error}")
            return None, None
        return name, copy.deepcopy(schema)

    def _parameters(
        self,
        location: Location,
        parameters: Mapping[str, Any],
        schema: Mapping[str, Any],
        *,
        required: bool,
    ) -> None:
        accepted = list(schema.get("properties", {}))
        for name in parameters:
            if name not in accepted:
                self.problem(
                    (*location, name),
                    f"parameter {name!r} is not accepted by the flow{_suggestion(name, accepted)} "
                    f"(it accepts: {', '.join(accepted) or 'no parameters'})",
                )
        known = {name: value for name, value in parameters.items() if name in accepted}
        for error in validate(known, dict(schema), raise_on_error=False, ignore_required=True):
            path = tuple(str(part) for part in error.path)
            self.problem((*location, *path), f"invalid value for the flow's signature: {error.message}")
        if required:
            for name in schema.get("required", []):
                if name not in parameters:
                    self.problem(location, f"the flow requires parameter {name!r} and no value is given")

    def _schedules(
        self,
        here: Location,
        raw: Any,
        parameters: Mapping[str, Any],
        schema: Mapping[str, Any] | None,
    ) -> list[dict[str, Any]]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem((*here, "schedules"), "must be a list")
            return []
        schedules: list[dict[str, Any]] = []
        for position, item in enumerate(raw):
            location = (*here, "schedules", position)
            config = self._validate_model(location, item, RawScheduleConfig)
            if not isinstance(config, RawScheduleConfig):
                continue
            before = len(self.problems)
            if config.timezone is None:
                self.problem(
                    location, "every schedule needs an explicit `timezone:` (e.g. America/Sao_Paulo)"
                )
            else:
                try:
                    _schedule_config_to_deployment_schedule(dict(item))
                except (ValidationError, ValueError) as error:
                    for message in _error_messages(error):
                        self.problem(location, message)
            if schema is not None:
                self._parameters((*location, "parameters"), config.parameters, schema, required=False)
            if len(self.problems) == before:
                schedules.append(dict(item))
        return schedules

    def _work_pool(
        self, pipeline: PipelineName, here: Location, config: WorkPoolConfig | None, environment: str | None
    ) -> str | None:
        location = (*here, "work_pool")
        if config is None or not config.name:
            self.problem(location, f"a work pool is required (one of {', '.join(WORK_POOLS)})")
            return None
        if config.name not in WORK_POOLS:
            self.problem(
                (*location, "name"), f"unknown work pool {config.name!r}: use one of {', '.join(WORK_POOLS)}"
            )
            return None
        template = self.pool_templates.get(config.name)
        if template is None:
            self.problem((*location, "name"), f"work pool {config.name!r} has no committed base job template")
            return None
        variables: Mapping[str, Any] = template["variables"]
        declared = list(variables.get("properties", {}))
        job_variables = config.job_variables
        for key in job_variables:
            if key not in declared:
                self.problem(
                    (*location, "job_variables", key),
                    f"job variable {key!r} is not declared by the {config.name} template"
                    f"{_suggestion(key, declared)}; the server would accept and ignore it",
                )
        checkable = {key: value for key, value in job_variables.items() if key in declared and key != "image"}
        for error in validate(checkable, dict(variables), raise_on_error=False, ignore_required=True):
            path = tuple(str(part) for part in error.path)
            self.problem((*location, "job_variables", *path), f"invalid job variable: {error.message}")
        if environment is not None and job_variables.get("secretName") != SECRET_NAMES[environment]:
            self.problem(
                (*location, "job_variables", "secretName"),
                f"secretName must be {SECRET_NAMES[environment]!r} for {environment}, "
                f"not {job_variables.get('secretName')!r}",
            )
        expected_image = f"{pipeline.image_name}:{{{{ {IMAGE_TAG_PLACEHOLDER} }}}}"
        image = job_variables.get("image")
        if not isinstance(image, str) or render_image_tag(image, "<tag>") != f"{pipeline.image_name}:<tag>":
            self.problem(
                (*location, "job_variables", "image"),
                f"image must be {expected_image!r} (the deploy tool puts the built reference there), "
                f"not {image!r}",
            )
        return config.name

    def _unknown_keys(self, location: Location, raw: Mapping[str, Any], model: type[BaseModel]) -> None:
        allowed = [info.alias or name for name, info in model.model_fields.items()]
        for key in raw:
            if key not in allowed:
                self.problem((*location, str(key)), f"unknown key {key!r}{_suggestion(str(key), allowed)}")

    def _validate_model(self, location: Location, raw: Any, model: type[BaseModel]) -> BaseModel | None:
        try:
            return model.model_validate(raw)
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                if detail["type"] == "extra_forbidden":
                    continue  # reported by _unknown_keys, with a suggestion
                self.problem((*location, *detail["loc"]), detail["msg"])
            return None


@functools.lru_cache(maxsize=512)
def _flow_signature(entrypoint: str, mtime_ns: int) -> tuple[str, dict[str, Any]]:
    """The flow's name and parameter schema, read from its source without importing it (cached per file
    version: a prefect.yaml usually points every deployment at the same flow)."""
    name = str(load_flow_arguments_from_entrypoint(entrypoint, {"name"})["name"])
    return name, parameter_schema_from_entrypoint(entrypoint).model_dump(exclude_unset=True)


def _line_index(text: str) -> dict[Location, int]:
    """The 1-based line of every key and item of a YAML document, by location."""
    index: dict[Location, int] = {}
    root = yaml.compose(text, Loader=_LOADER)

    def walk(node: yaml.Node, location: Location) -> None:
        index.setdefault(location, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                index[(*location, key.value)] = key.start_mark.line + 1
                walk(value, (*location, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                walk(item, (*location, position))

    if root is not None:
        walk(root, ())
    return index


def _format_location(location: Location) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _suggestion(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _strings(value: Any, location: Location) -> Iterable[tuple[Location, str]]:
    if isinstance(value, str):
        yield location, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*location, str(key)))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _strings(item, (*location, position))


def _is_flow_function(source: str, function: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            return any(_decorator_name(decorator) == "flow" for decorator in node.decorator_list)
    return False


def _decorator_name(node: ast.expr) -> str | None:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


def _error_messages(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [
            f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}".lstrip(": ")
            for detail in error.errors(include_url=False)
        ]
    return [str(error)]
