"""The prefect.yaml rewrite: one deployment per environment, its schedules, its work pool and secret."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pipeline_import.dump_parameters import DumpParameterMap
from pipeline_import.imported import Imported, UnusableInput
from pipeline_import.yaml_files import Location, YamlFile
from pipeline_platform.prefect_internals import DeploymentConfig, RawScheduleConfig
from pipelines.common.naming import ENVIRONMENTS, SECRET_NAMES, WORK_POOLS, PipelineName

# For schedules that give none (the city's).
TIMEZONE: Final = "America/Sao_Paulo"
# Left for the deploy tool to fill in (docs/deploy.md).
IMAGE_TAG: Final = "{{ $IMAGE_TAG }}"
SCHEDULE_KEY_HINTS: Final = {
    "flow_run_name": "set the run name with @flow(flow_run_name=...) in flow.py",
    "deployment_name": "the deployment's own name is enough",
}


@dataclass
class Converted:
    config: dict[str, Any]
    queries: dict[str, str]


ENVIRONMENT_SUFFIX: Final = re.compile(r"(?:^|[-_])(prod|staging)$")


def environment_of(name: str) -> str | None:
    match = ENVIRONMENT_SUFFIX.search(name.strip().lower())
    return match.group(1) if match else None


def _has_placeholder(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


class PrefectYamlConverter:
    """Rewrites one old prefect.yaml for this repository, noting each change on ``imported``."""

    def __init__(
        self,
        source: YamlFile,
        imported: Imported,
        pipeline: PipelineName,
        *,
        pool_map: Mapping[str, str],
        pool_variables: Mapping[str, Sequence[str]],
        prefect_version: str,
        flow_defaults: Mapping[str, Any] | None = None,
    ) -> None:
        self.source = source
        self.flow_defaults = dict(flow_defaults or {})
        self.imported = imported
        self.pipeline = pipeline
        self.pool_map = pool_map
        self.pool_variables = pool_variables
        self.prefect_version = prefect_version
        self.queries: dict[str, str] = {}
        self.run_names = 0

    def convert(self) -> Converted:
        raw = self.source.data
        if not isinstance(raw, dict) or not isinstance(raw.get("deployments"), list):
            raise UnusableInput("prefect.yaml has no `deployments:` list: there is nothing to import")
        if not raw["deployments"]:
            self.imported.changed(
                self.source.where(("deployments",)),
                "switched off (`deployments: []`): imported with its code and no deployment; the old "
                f"deployments are commented out{self._commented_lines()}: add them back to turn it on",
            )
        self._top_level(raw)
        by_environment: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for index, item in enumerate(raw["deployments"]):
            where = self.source.where(("deployments", index))
            if not isinstance(item, dict):
                self.imported.todo(where, "a deployment that is not a mapping: not imported")
                continue
            name = str(item.get("name", ""))
            environment = environment_of(name)
            if environment is None:
                self.imported.todo(
                    where,
                    f"deployment {name!r}: its name does not end in --prod or --staging, so its environment "
                    "is unknown; not imported (rename it in the old prefect.yaml and import again)",
                )
                continue
            by_environment.setdefault(environment, []).append(
                (index, self._deployment(index, item, environment))
            )
        deployments = [
            self._merge(environment, by_environment[environment])
            for environment in ENVIRONMENTS
            if environment in by_environment
        ]
        if self.run_names:
            self.imported.changed(
                self.source.where(()),
                f"flow_run_name dropped from {self.run_names} schedule(s): Prefect 3 schedules have no run "
                "name; name runs with @flow(flow_run_name=...) or rename_current_flow_run_task",
            )
        for environment in ENVIRONMENTS:
            if not raw["deployments"]:
                break
            if environment not in by_environment:
                self.imported.todo(
                    self.source.where(()), f"no {environment} deployment in the old prefect.yaml"
                )
        config = {
            "name": self.pipeline.dir_name,
            "prefect-version": self.prefect_version,
            "build": None,
            "push": None,
            "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": "/opt/prefect"}}],
            "deployments": deployments,
        }
        return Converted(config, self.queries)

    def _commented_lines(self) -> str:
        lines = [
            number
            for number, line in enumerate(self.source.path.read_text(encoding="utf-8").splitlines(), start=1)
            if line.lstrip().startswith("#") and "- name:" in line
        ]
        if not lines:
            return ""
        return f" (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))})"

    def _top_level(self, raw: dict[str, Any]) -> None:
        if raw.get("name") != self.pipeline.dir_name:
            self.imported.changed(
                self.source.where(("name",)), f"name: {raw.get('name')!r} -> {self.pipeline.dir_name!r}"
            )
        for action in ("build", "push"):
            if raw.get(action):
                self.imported.changed(
                    self.source.where((action,)),
                    f"{action}: steps removed (Pants builds and pushes the image)",
                )
        if raw.get("pull"):
            self.imported.changed(self.source.where(("pull",)), "pull: this repository's step (/opt/prefect)")

    def _deployment(self, index: int, raw: dict[str, Any], environment: str) -> dict[str, Any]:
        here: Location = ("deployments", index)
        where = self.source.where(here)
        name = self.pipeline.deployment_name(environment)
        if raw.get("name") != name:
            self.imported.changed(
                self.source.where((*here, "name")), f"deployment {raw.get('name')!r} -> {name!r}"
            )
        allowed = set(DeploymentConfig.model_fields)
        for key in raw:
            if key not in allowed:
                self.imported.todo(self.source.where((*here, key)), f"unknown deployment key {key!r} dropped")
        for key in ("version", "build", "push", "pull", "triggers", "sla", "flow_name", "version_type"):
            if raw.get(key) is not None:
                self.imported.changed(self.source.where((*here, key)), f"`{key}:` removed")
        deployment: dict[str, Any] = {"name": name}
        if raw.get("description"):
            deployment["description"] = str(raw["description"])
        deployment["entrypoint"] = self._entrypoint(here, raw.get("entrypoint"))
        tags = raw.get("tags")
        deployment["tags"] = [
            str(tag) for tag in ([tags] if isinstance(tags, str) else list(tags or []))
        ] or [
            self.pipeline.secretaria,
            environment,
        ]
        for key in ("paused", "concurrency_limit", "enforce_parameter_schema"):
            if raw.get(key) is not None:
                deployment[key] = raw[key]
        base = {**self.flow_defaults, **self._mapping((*here, "parameters"), raw.get("parameters"))}
        schedules = (
            self._schedule(location, item, base) for location, item in self._raw_schedules(here, raw)
        )
        deployment["schedules"] = [schedule for schedule in schedules if schedule is not None]
        if not deployment["schedules"]:
            deployment["parameters"] = self._parameters(self.source.where((*here, "parameters")), base)
        deployment["work_pool"] = self._work_pool(here, raw.get("work_pool"), environment)
        deployment["_where"] = where
        return deployment

    def _entrypoint(self, here: Location, entrypoint: Any) -> str:
        function = self.pipeline.dir_name
        if self.imported.kind == "code" and isinstance(entrypoint, str) and ":" in entrypoint:
            function = entrypoint.rpartition(":")[2]
        new = f"pipelines/{self.pipeline.dir_name}/flow.py:{function}"
        if entrypoint != new:
            self.imported.changed(self.source.where((*here, "entrypoint")), f"entrypoint -> {new}")
        return new

    def _raw_schedules(self, here: Location, raw: dict[str, Any]) -> Iterator[tuple[Location, Any]]:
        """Each schedule with its location, from `schedules:` and from the singular `schedule:`."""
        singular = raw.get("schedule")
        if singular is not None:
            self.imported.changed(
                self.source.where((*here, "schedule")),
                "`schedule:` (singular, not accepted by Prefect 3) -> `schedules:`",
            )
            if isinstance(singular, list):
                yield from (((*here, "schedule", position), item) for position, item in enumerate(singular))
            else:
                yield (*here, "schedule"), singular
        plural = raw.get("schedules")
        if isinstance(plural, list):
            yield from (((*here, "schedules", position), item) for position, item in enumerate(plural))

    def _schedule(self, location: Location, raw: Any, base: Mapping[str, Any]) -> dict[str, Any] | None:
        where = self.source.where(location)
        if not isinstance(raw, dict):
            self.imported.todo(where, "a schedule that is not a mapping: dropped")
            return None
        allowed = set(RawScheduleConfig.model_fields)
        schedule: dict[str, Any] = {}
        for key, value in raw.items():
            if key == "parameters":
                continue
            if key == "flow_run_name":
                self.run_names += 1
                continue
            if key not in allowed:
                hint = SCHEDULE_KEY_HINTS.get(str(key), "Prefect 3 does not accept it")
                self.imported.todo(
                    self.source.where((*location, key)), f"schedule key {key!r} dropped: {hint}"
                )
                continue
            schedule[key] = value
        if "timezone" not in schedule:
            schedule["timezone"] = TIMEZONE
            self.imported.changed(where, f"timezone: {TIMEZONE} (it had none)")
        parameters = {**base, **self._mapping((*location, "parameters"), raw.get("parameters"))}
        schedule["parameters"] = self._parameters(self.source.where((*location, "parameters")), parameters)
        return schedule

    def _mapping(self, location: Location, value: Any) -> dict[str, Any]:
        """``value`` when it is a mapping (keys as text); anything else is noted and read as empty."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.imported.todo(
                self.source.where(location), f"not a mapping ({type(value).__name__}): ignored"
            )
            return {}
        return {str(key): item for key, item in value.items()}

    def _parameters(self, where: str, parameters: dict[str, Any]) -> dict[str, Any]:
        if self.imported.kind != "dump":
            return parameters
        return DumpParameterMap(self.source, self.imported, self.queries, where).convert(parameters)

    def _work_pool(self, here: Location, raw: Any, environment: str) -> dict[str, Any]:
        location = (*here, "work_pool")
        raw = raw if isinstance(raw, dict) else {}
        old = str(raw.get("name") or "")
        name = self.pool_map.get(old, old)
        if name not in WORK_POOLS:
            self.imported.todo(
                self.source.where((*location, "name")),
                f"work pool {old!r} is not one of {', '.join(WORK_POOLS)}: set to default-pool (use "
                f"--pool-map {old or 'OLD'}=datario-pool for databases and systems behind the VPN)",
            )
            name = "default-pool"
        elif name != old:
            self.imported.changed(self.source.where((*location, "name")), f"work pool {old!r} -> {name!r}")
        queue = raw.get("work_queue_name")
        if queue not in (None, "default"):
            self.imported.todo(
                self.source.where((*location, "work_queue_name")),
                f"work_queue_name {queue!r} dropped (deployments here use the pool's default queue)",
            )
        variables = self._mapping((*location, "job_variables"), raw.get("job_variables"))
        image = f"{self.pipeline.image_name}:{IMAGE_TAG}"
        job_variables: dict[str, Any] = {"image": image}
        secret = SECRET_NAMES[environment]
        old_secret = variables.get("secretName")
        if old_secret != secret:
            why = (
                f" (a {environment} deployment holding the prod secret)"
                if environment == "staging" and old_secret == SECRET_NAMES["prod"]
                else ""
            )
            self.imported.changed(
                self.source.where((*location, "job_variables", "secretName")),
                f"secretName {old_secret!r} -> {secret!r}{why}",
            )
        job_variables["secretName"] = secret
        declared = self.pool_variables.get(name, ())
        for key, value in variables.items():
            here_variable = self.source.where((*location, "job_variables", key))
            if key in ("image", "secretName"):
                continue
            if key == "command" and isinstance(value, str) and value.strip().startswith("uv run"):
                self.imported.changed(
                    here_variable, "command: `uv run ...` removed (the image runs the flow)"
                )
                continue
            if key not in declared:
                self.imported.todo(here_variable, f"job variable {key!r} is not declared by {name}: dropped")
                continue
            if _has_placeholder(value):
                self.imported.todo(
                    here_variable, f"job variable {key!r} used a build-step placeholder: dropped"
                )
                continue
            job_variables[key] = value
        job_variables.setdefault("image_pull_policy", "Always")
        return {"name": name, "job_variables": job_variables}

    def _merge(self, environment: str, items: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
        """One deployment per environment: the others' schedules join the first one's."""
        _, first = items[0]
        merged = {key: value for key, value in first.items() if key != "_where"}
        for index, other in items[1:]:
            where = other["_where"]
            if other["entrypoint"] != first["entrypoint"]:
                self.imported.todo(
                    where,
                    f"a second {environment} deployment runs another flow ({other['entrypoint']}): not "
                    "merged; import that flow as a pipeline of its own",
                )
                continue
            if not other["schedules"]:
                self.imported.todo(
                    where,
                    f"a second {environment} deployment without schedules was dropped; its parameters "
                    f"{other.get('parameters') or {}} can be given to a manual run",
                )
                continue
            merged["schedules"] = [*merged["schedules"], *other["schedules"]]
            merged["tags"] = list(dict.fromkeys([*merged["tags"], *other["tags"]]))
            if other["work_pool"] != first["work_pool"]:
                self.imported.todo(
                    where,
                    f"merged deployment used another work pool or job variables; kept {first['_where']}'s",
                )
            self.imported.changed(
                where,
                f"deployments[{index}] merged into {merged['name']} ({len(other['schedules'])} schedule(s))",
            )
        if merged["schedules"]:
            shared = _shared_parameters([schedule["parameters"] for schedule in merged["schedules"]])
            if shared:
                merged = {**merged, "parameters": shared}
                for schedule in merged["schedules"]:
                    schedule["parameters"] = {
                        key: value for key, value in schedule["parameters"].items() if key not in shared
                    }
            for schedule in merged["schedules"]:
                if not schedule["parameters"]:
                    del schedule["parameters"]
        else:
            del merged["schedules"]
        order = ["name", "description", "entrypoint", "tags", "paused", "concurrency_limit"]
        order += ["enforce_parameter_schema", "parameters", "schedules", "work_pool"]
        return {key: merged[key] for key in order if key in merged}


def _shared_parameters(parameters: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The parameters every schedule gives with the same value (written once, on the deployment)."""
    if not parameters:
        return {}
    first = parameters[0]
    return {
        key: value for key, value in first.items() if all(key in p and p[key] == value for p in parameters)
    }
