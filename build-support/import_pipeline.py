"""Import pipelines from the city's old repository layout into this repository (docs/importar.md).

    ./pants run build-support/import_pipeline.py -- [--pool-map OLD=NEW ...] [--no-refresh] [--force] DIR...

Each DIR is a pipeline directory of the old layout (flow.py, prefect.yaml, pyproject.toml, Dockerfile, ...).
For each one this writes ``pipelines/<name>/`` in this repository's conventions: the BUILD one-liner and the
Dockerfile (from templates/), the Python sources (subpackages too; or, for a dump, the generic dump's flow and
one ``queries/<table>.sql`` per table), and the prefect.yaml rewritten (no build/push steps, this repo's
pull step and image, pools mapped, ``secretName`` per environment, names ``rj-<sec>--<pipe>--<env>``, one
deployment per environment). The pyproject's third-party requirements go to ``3rdparty/python/`` and the pins
are refreshed. It ends with a report per pipeline: what it changed, and what a person must still do, with file
and line. It never overwrites an existing pipeline without ``--force``, and exits non-zero only when an input
cannot be imported (saying why).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import black
import yaml
from black.mode import TargetVersion
from black.report import NothingChanged
from cookiecutter.exceptions import CookiecutterException, FailedHookException
from cookiecutter.main import cookiecutter
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from prefect.cli.deploy._models import DeploymentConfig, RawScheduleConfig
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from pipeline_platform.pools import load_pool_templates
from pipeline_platform.spec import validate_pipeline
from pipelines.common.naming import ENVIRONMENTS, SECRET_NAMES, WORK_POOLS, NamingError, PipelineName

REPO_ROOT_ENV: Final = "PIPELINES_REPO_ROOT"
DEFAULT_POOL_MAP: Final = {"k3s-pool": "default-pool"}
TIMEZONE: Final = "America/Sao_Paulo"
IMAGE_TAG: Final = "{{ $IMAGE_TAG }}"
# The old repository's helper library: nothing here provides it (pipelines/common replaces it).
HELPER_LIBRARIES: Final = ("iplanrio", "prefeitura_rio")
HELPER_DISTRIBUTIONS: Final = frozenset({"iplanrio", "prefeitura-rio"})
# Import name -> distribution, where they differ (the common cases of the city's pipelines).
MODULE_DISTRIBUTIONS: Final = {
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "jwt": "pyjwt",
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "slugify": "python-slugify",
    "psycopg2": "psycopg2-binary",
    "docx": "python-docx",
    "magic": "python-magic",
    "cv2": "opencv-python",
    "google.cloud.storage": "google-cloud-storage",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "googleapiclient": "google-api-python-client",
    "prefect_docker": "prefect-docker",
    "prefect_kubernetes": "prefect-kubernetes",
}
# Files of the old layout that this repository replaces.
REPLACED_FILES: Final = frozenset({"Dockerfile", "prefect.yaml", "pyproject.toml", "uv.lock", "BUILD"})
DATA_SUFFIXES: Final = (".sql", ".json", ".yaml", ".yml", ".csv", ".txt", ".j2", ".html")
SKIPPED_DIRS: Final = frozenset({"__pycache__", ".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
# Old dump parameters -> the generic dump's (pipelines/common/dump.py); None: dropped, with the reason.
DUMP_RENAMED: Final = {
    "db_type": "db_type",
    "db_host": "db_host",
    "db_database": "db_database",
    "dataset_id": "dataset_id",
    "table_id": "table_id",
    "batch_size": "batch_size",
    "lower_bound_date": "lower_bound_date",
    "partition_date_format": "partition_date_format",
}
DUMP_DROPPED: Final = {
    "batch_data_type": "the dump always writes Parquet",
    "biglake_table": "BigQuery/BigLake tables are not made by the dump here",
    "retry_dump_upload_attempts": "use the flow's retries; the dump is rerun whole (it is idempotent)",
    "log_number_of_batches": "the dump logs every run's totals",
    "break_query_end": "the dump streams the whole range in batches: no need to break the query",
    "break_query_frequency": "the dump streams the whole range in batches: no need to break the query",
}
DB_TYPES: Final = {"sql_server": "sql_server", "mssql": "sql_server", "oracle": "oracle", "mysql": "mysql"}
DB_TYPES_POSTGRES: Final = ("postgres", "postgresql")
SCHEDULE_KEY_HINTS: Final = {
    "flow_run_name": "set the run name with @flow(flow_run_name=...) in flow.py",
    "deployment_name": "the deployment's own name is enough",
}
Location = tuple[str | int, ...]


class UnusableInput(Exception):
    """An input directory that cannot be imported; the message says why."""


@dataclass(frozen=True, order=True)
class Note:
    """One line of the report: something changed, or something a person still has to do (``todo``)."""

    todo: bool
    where: str
    text: str


@dataclass
class Imported:
    source: Path
    name: str
    kind: str = "code"
    notes: list[Note] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def changed(self, where: str, text: str) -> None:
        self.notes.append(Note(False, where, text))

    def todo(self, where: str, text: str) -> None:
        self.notes.append(Note(True, where, text))


# ----------------------------------------------------------------------------------------------------------
# Reading the old prefect.yaml, with the line of every key


@dataclass(frozen=True)
class YamlFile:
    path: Path
    data: Any
    lines: Mapping[Location, int]

    def where(self, location: Location) -> str:
        while location and location not in self.lines:
            location = location[:-1]
        line = self.lines.get(location)
        name = f"{self.path.parent.name}/{self.path.name}"
        return f"{name}:{line}" if line else name


def read_yaml(path: Path) -> YamlFile:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UnusableInput(f"{path.name} is not UTF-8 text ({error})") from None
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        raise UnusableInput(f"{path.name} is not valid YAML: {error}") from None
    lines: dict[Location, int] = {}

    def walk(node: yaml.Node, location: Location) -> None:
        lines.setdefault(location, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                lines[(*location, key.value)] = key.start_mark.line + 1
                walk(value, (*location, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                walk(item, (*location, position))

    if root is not None:
        walk(root, ())
    return YamlFile(path, data, lines)


# ----------------------------------------------------------------------------------------------------------
# The prefect.yaml rewrite


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
    ) -> None:
        self.source = source
        self.imported = imported
        self.pipeline = pipeline
        self.pool_map = pool_map
        self.pool_variables = pool_variables
        self.prefect_version = prefect_version
        self.queries: dict[str, str] = {}

    def convert(self) -> Converted:
        raw = self.source.data
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("deployments"), list)
            or not raw["deployments"]
        ):
            raise UnusableInput("prefect.yaml has no `deployments:` list: there is nothing to import")
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
        for environment in ENVIRONMENTS:
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
        base = self._mapping((*here, "parameters"), raw.get("parameters"))
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
        return DumpParameterMap(self, where).convert(parameters)

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


class DumpParameterMap:
    """The old dump flow's parameters, as the generic dump's (inline SQL moved to queries/<table_id>.sql)."""

    def __init__(self, converter: PrefectYamlConverter, where: str) -> None:
        self.converter = converter
        self.imported = converter.imported
        self.where = where

    def convert(self, old: Mapping[str, Any]) -> dict[str, Any]:
        new: dict[str, Any] = {}
        for key, value in old.items():
            if key in DUMP_RENAMED:
                if value not in (None, ""):
                    new[DUMP_RENAMED[key]] = value
                if key == "partition_date_format" and value:
                    self.imported.todo(
                        self.where,
                        f"partition_date_format {value!r} kept: the dump then reads the partition column as "
                        "text dates; remove it if that column is a date or timestamp",
                    )
            elif key in DUMP_DROPPED:
                self._once(f"{key} dropped: {DUMP_DROPPED[key]}")
            elif key not in ("execute_query", "db_port", "db_charset", "infisical_secret_path", "dump_mode"):
                if key not in ("partition_columns", "break_query_start"):
                    self.imported.todo(self.where, f"parameter {key!r} is not a dump parameter: dropped")
        self._connection(old, new)
        self._partition(old, new)
        self._query(old, new)
        return new

    def _once(self, text: str) -> None:
        note = Note(False, self.converter.source.where(()), text)
        if note not in self.imported.notes:
            self.imported.notes.append(note)

    def _connection(self, old: Mapping[str, Any], new: dict[str, Any]) -> None:
        kind = str(old.get("db_type") or "").strip().lower()
        if kind:
            if kind in DB_TYPES_POSTGRES:
                new["db_type"] = "postgres"
            elif kind in DB_TYPES:
                new["db_type"] = DB_TYPES[kind]
            else:
                self.imported.todo(self.where, f"db_type {kind!r} is not known to the dump: kept, fix it")
        port = old.get("db_port")
        if port not in (None, ""):
            try:
                new["db_port"] = int(str(port))
            except ValueError:
                self.imported.todo(self.where, f"db_port {port!r} is not a number: dropped")
        charset = old.get("db_charset")
        if charset not in (None, "", "NOT_SET"):
            new["db_charset"] = charset
        secret = old.get("infisical_secret_path")
        if secret:
            credentials = str(secret).strip("/").replace("-", "_").replace("/", "_").upper()
            new["db_credentials"] = credentials
            self._once(
                f"infisical_secret_path -> db_credentials (e.g. {secret!r} -> {credentials!r}: the variables "
                f"{credentials}__DB_USERNAME and {credentials}__DB_PASSWORD of the secretName)"
            )

    def _partition(self, old: Mapping[str, Any], new: dict[str, Any]) -> None:
        columns = [
            name.strip() for name in str(old.get("partition_columns") or "").split(",") if name.strip()
        ]
        mode = str(old.get("dump_mode") or "overwrite")
        if columns:
            new["partition_column"] = columns[0]
            if len(columns) > 1:
                self.imported.todo(
                    self.where, f"partition_columns {columns}: the lake is partitioned by {columns[0]!r} only"
                )
            new["dump_mode"] = "incremental"
            self._once(
                f"dump_mode {mode!r} + partition_columns -> 'incremental' (the newest day in the lake is "
                "read again and rewritten: reruns do not duplicate rows)"
            )
        elif mode in ("overwrite", "append"):
            new["dump_mode"] = mode
        else:
            self.imported.todo(self.where, f"dump_mode {mode!r} unknown: set to 'overwrite'")
            new["dump_mode"] = "overwrite"
        start = old.get("break_query_start")
        if start and "lower_bound_date" not in new and columns:
            new["lower_bound_date"] = str(start)
            self._once("break_query_start -> lower_bound_date (the first day ever read)")

    def _query(self, old: Mapping[str, Any], new: dict[str, Any]) -> None:
        sql = old.get("execute_query")
        if not isinstance(sql, str) or not sql.strip():
            if "table_id" in new and not self.converter.queries.get(str(new["table_id"])):
                self.imported.todo(self.where, f"no execute_query for {new['table_id']!r}: write its query")
            return
        sql = sql.strip() + "\n"
        table = str(new.get("table_id") or "query")
        name = table
        number = 1
        while name in self.converter.queries and self.converter.queries[name] != sql:
            number += 1
            name = f"{table}_{number}"
        if name not in self.converter.queries:
            self.converter.queries[name] = sql
            self.imported.changed(self.where, f"execute_query of {table!r} -> queries/{name}.sql")
        if name != table:
            new["query"] = name


# ----------------------------------------------------------------------------------------------------------
# Requirements (pyproject.toml -> 3rdparty/python)


@dataclass
class Requirements:
    """The repository's direct requirements and pins, and what the imports add to them."""

    root: Path
    direct: dict[str, Requirement] = field(default_factory=dict)
    pinned: dict[str, str] = field(default_factory=dict)
    added: list[Requirement] = field(default_factory=list)

    @property
    def requirements_file(self) -> Path:
        return self.root / "3rdparty/python/requirements.txt"

    @property
    def build_file(self) -> Path:
        return self.root / "3rdparty/python/BUILD"

    @classmethod
    def read(cls, root: Path) -> Requirements:
        found = cls(root)
        for line in found.requirements_file.read_text().splitlines():
            text = line.split("#", 1)[0].strip()
            if text:
                requirement = Requirement(text)
                found.direct[canonicalize_name(requirement.name)] = requirement
        constraints = root / "3rdparty/python/constraints.txt"
        for line in constraints.read_text().splitlines() if constraints.is_file() else []:
            name, _, version = line.split("#", 1)[0].strip().partition("==")
            if version:
                found.pinned[canonicalize_name(name)] = version
        return found

    def names(self) -> set[str]:
        return set(self.direct) | {canonicalize_name(item.name) for item in self.added}

    def consider(self, requirement: Requirement, imported: Imported, where: str) -> None:
        name = canonicalize_name(requirement.name)
        pinned = self.pinned.get(name)
        fits = pinned is None or _satisfies(requirement, pinned)
        if name in self.direct or any(canonicalize_name(item.name) == name for item in self.added):
            if fits:
                imported.changed(where, f"{requirement}: already a requirement here ({name}=={pinned})")
            else:
                imported.todo(
                    where,
                    f"version conflict: {requirement} asked, this repository pins {name}=={pinned}: kept",
                )
            return
        if not fits:
            imported.todo(
                where,
                f"version conflict: {requirement} asked, {name}=={pinned} is pinned (a dependency of other "
                "requirements): not added",
            )
            return
        self.added.append(requirement)
        imported.changed(where, f"{requirement}: added to 3rdparty/python/requirements.txt")

    def write(self) -> None:
        """Appends the added requirements to requirements.txt and to the REQUIREMENTS list of the BUILD."""
        if not self.added:
            return
        text = self.requirements_file.read_text()
        section = "# Imported pipelines (build-support/import_pipeline.py)"
        if section not in text:
            text = text.rstrip("\n") + f"\n\n{section}\n"
        text += "".join(f"{requirement}\n" for requirement in self.added)
        self.requirements_file.write_text(text)
        build = self.build_file.read_text()
        names = "".join(f'    "{canonicalize_name(item.name)}",\n' for item in self.added)
        start = build.index("REQUIREMENTS = [")
        end = build.index("\n]", start)
        self.build_file.write_text(build[: end + 1] + names + build[end + 1 :])


def _satisfies(requirement: Requirement, version: str) -> bool:
    try:
        return requirement.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return True


def pyproject_requirements(source: Path, imported: Imported) -> list[tuple[Requirement, str]]:
    path = source / "pyproject.toml"
    label = f"{source.name}/pyproject.toml"
    if not path.is_file():
        imported.todo(label, "no pyproject.toml: no requirements imported")
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        imported.todo(label, f"not valid TOML ({error}): no requirements imported")
        return []
    sources = _table(_table(_table(data, "tool"), "uv"), "sources")
    workspace = {
        canonicalize_name(name)
        for name, spec in sources.items()
        if isinstance(spec, dict) and spec.get("workspace")
    }
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    dependencies = _table(data, "project").get("dependencies", [])
    if not isinstance(dependencies, list):
        imported.todo(label, "[project].dependencies is not a list: no requirements imported")
        return []
    for text in map(str, dependencies):
        where = f"{label}:{_line_of(lines, text)}"
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            imported.todo(where, f"requirement {text!r} is not valid ({error}): skipped")
            continue
        name = canonicalize_name(requirement.name)
        if name in workspace:
            imported.changed(where, f"{requirement.name}: the old workspace's root, not a requirement here")
        elif name in HELPER_DISTRIBUTIONS:
            imported.todo(
                where,
                f"{requirement.name}: the old repository's helper library is not used here (see imports)",
            )
        else:
            found.append((requirement, where))
    return found


def _table(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _line_of(lines: Sequence[str], text: str) -> int:
    for number, line in enumerate(lines, start=1):
        if text in line:
            return number
    return 1


def refresh_pins(root: Path) -> str | None:
    """Runs 3rdparty/python/refresh_pins.py; the error's tail when it fails, else None."""
    python = shutil.which("python3") or sys.executable
    result = subprocess.run(
        [python, "3rdparty/python/refresh_pins.py"], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode == 0:
        return None
    return (result.stdout + result.stderr).strip()[-2000:]


# ----------------------------------------------------------------------------------------------------------
# Sources


def copy_sources(source: Path, target: Path, imported: Imported) -> list[str]:
    """The old pipeline's Python sources and data files, subpackages included; the data files' globs."""
    globs: set[str] = set()
    for path in sorted(_files(source)):
        relative = path.relative_to(source)
        if relative.name in REPLACED_FILES and len(relative.parts) == 1:
            continue
        if path.suffix == ".py" or path.suffix in DATA_SUFFIXES:
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / relative)
            if path.suffix != ".py":
                globs.add(
                    str(relative.parent / f"*{path.suffix}") if relative.parent.parts else f"*{path.suffix}"
                )
        else:
            imported.todo(
                f"{source.name}/{relative}",
                "not copied (not Python nor a data file): copy it by hand if it is read",
            )
    for directory in sorted({path.parent for path in target.rglob("*.py")}):
        init = directory / "__init__.py"
        if not init.exists():
            init.write_text("")
            imported.changed(
                f"pipelines/{target.name}/{init.relative_to(target)}",
                "added (every package here has an __init__.py)",
            )
        build = directory / "BUILD"
        if directory != target and not build.exists():
            # The pipeline's BUILD owns its own directory's files only: a subpackage gets its own target.
            build.write_text("python_sources()\n")
            imported.changed(
                f"pipelines/{target.name}/{build.relative_to(target)}",
                "added (Pants owns the subpackage's modules)",
            )
    return sorted(globs)


def _files(root: Path) -> Iterator[Path]:
    for path in root.iterdir():
        if path.is_symlink():
            continue
        if path.is_dir():
            if path.name not in SKIPPED_DIRS and not path.name.startswith("."):
                yield from _files(path)
        elif path.is_file():
            yield path


def format_sources(root: Path, target: Path, imported: Imported) -> None:
    """Formats the copied Python files as the repository's lint wants (black, then ruff's safe fixes)."""
    line_length = int(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["black"]["line-length"])
    mode = black.Mode(line_length=line_length, target_versions={TargetVersion.PY311})
    reformatted = 0
    for path in sorted(target.rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
            formatted = black.format_file_contents(text, fast=False, mode=mode)
        except NothingChanged:
            continue
        except UnicodeDecodeError:
            continue  # reported by check_imports
        except Exception as error:  # black's parse errors have no common base class
            imported.todo(
                f"pipelines/{target.name}/{path.relative_to(target)}", f"black could not format it: {error}"
            )
            continue
        path.write_text(formatted, encoding="utf-8")
        reformatted += 1
    if reformatted:
        imported.changed(f"pipelines/{target.name}/*.py", f"{reformatted} file(s) formatted with black")
    ruff = _ruff_binary()
    if ruff is None:
        imported.todo(f"pipelines/{target.name}/*.py", "ruff not found: run ./pants fix on the pipeline")
        return
    subprocess.run(
        [
            ruff,
            "check",
            "--fix",
            "--quiet",
            "--exit-zero",
            "--config",
            str(root / "pyproject.toml"),
            str(target),
        ],
        capture_output=True,
        check=False,
    )


def _ruff_binary() -> str | None:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError:
        return shutil.which("ruff")
    try:
        return str(find_ruff_bin())
    except FileNotFoundError:
        return shutil.which("ruff")


def check_imports(
    root: Path, target: Path, pipeline: PipelineName, requirements: Requirements, imported: Imported
) -> None:
    """Imports that nothing here provides (they fail the pipeline's lint, check and test), with file:line."""
    provided = requirements.names()
    for path in sorted(target.rglob("*.py")):
        relative = f"pipelines/{pipeline.dir_name}/{path.relative_to(target)}"
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError as error:
            imported.todo(f"{relative}:{error.lineno}", f"syntax error: {error.msg}")
            continue
        except UnicodeDecodeError as error:
            imported.todo(relative, f"not UTF-8 text ({error.reason}): its imports were not checked")
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for module in _imported_modules(node):
                reason = _unowned(root, target, pipeline, module, provided)
                if reason:
                    imported.todo(f"{relative}:{node.lineno}", f"import {module}: {reason}")


def _imported_modules(node: ast.Import | ast.ImportFrom) -> Iterable[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def _unowned(root: Path, target: Path, pipeline: PipelineName, module: str, provided: set[str]) -> str | None:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return None
    if top in HELPER_LIBRARIES:
        return (
            "the old repository's helper library, not available here: use pipelines/common (docs/importar.md)"
        )
    if top == "src":
        return (
            "shared code of the old repository (src/), not available here: copy what it uses into the "
            "pipeline"
        )
    if top == "pipelines":
        parts = module.split(".")
        if len(parts) == 1:
            return None
        if parts[1] == pipeline.dir_name:
            return None if _module_exists(target.parent, parts[1:]) else "no such module in the pipeline"
        if parts[1] == "common":
            return (
                None
                if _module_exists(root / "pipelines", parts[1:])
                else "no such module in pipelines/common"
            )
        return "another pipeline: pipelines import only their own files and pipelines/common"
    candidates: set[str] = {canonicalize_name(top)}
    for name, distribution in MODULE_DISTRIBUTIONS.items():
        if module == name or module.startswith(f"{name}.") or top == name:
            candidates.add(distribution)
    if candidates & provided:
        return None
    return (
        "no requirement provides it: add its distribution to the old pyproject.toml and import again, or to "
        "3rdparty/python/requirements.txt"
    )


def _module_exists(base: Path, parts: Sequence[str]) -> bool:
    for end in range(len(parts), 0, -1):
        path = base.joinpath(*parts[:end])
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return True
    return False


def old_dockerfile_notes(source: Path, imported: Imported) -> None:
    """Lines of the old Dockerfile beyond the usual FROM/COPY/uv sync: what the new one may need by hand."""
    path = source / "Dockerfile"
    if not path.is_file():
        return
    usual = re.compile(r"^(FROM|COPY|WORKDIR|LABEL|ENV\s+UV_|ARG\s+)|uv sync|^#", re.IGNORECASE)
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        text = line.strip()
        if text and not usual.search(text):
            imported.todo(
                f"{source.name}/Dockerfile:{number}",
                f"`{text}`: add it below the FROM of the new Dockerfile if needed",
            )


# ----------------------------------------------------------------------------------------------------------
# Template files (BUILD, Dockerfile, the dump flow): rendered from templates/, the one source of them


def render_template(root: Path, pipeline: PipelineName, kind: str) -> Path:
    """The template rendered for this pipeline into a temporary ``pipelines/`` directory."""
    output = Path(tempfile.mkdtemp(prefix="import-template-")) / "pipelines"
    output.mkdir()
    answers = {
        "kind": "dump_db" if kind == "dump" else "api",
        "secretaria": pipeline.secretaria,
        "pipeline": pipeline.pipeline,
        "description": "Pipeline importada do repositório antigo.",
        "tables": "query",
        "work_pool": "default-pool",
        "schedule": "0 3 * * *",
    }
    try:
        created = cookiecutter(
            str(root / "templates"), no_input=True, extra_context=answers, output_dir=str(output)
        )
    except FailedHookException:
        raise UnusableInput(
            f"the template refuses the name {pipeline.dir_name!r} (see the message above): rename the "
            "directory"
        ) from None
    except CookiecutterException as error:
        raise UnusableInput(f"the template could not be rendered: {error}") from None
    return Path(created)


def smoke_test(pipeline: PipelineName, function: str, tables: Sequence[str]) -> str:
    """A first test for the imported pipeline: its flow loads (its imports resolve), its queries are read."""
    module = f"pipelines.{pipeline.dir_name}"
    lines = [
        '"""Written by build-support/import_pipeline.py: the imported flow loads. Add real tests."""',
        "",
        "from prefect import Flow",
        "",
    ]
    if tables:
        lines += ["from pipelines.common.db import read_query"]
    lines += [f"from {module}.flow import {function}", ""]
    if tables:
        lines += ["", f"TABLES = {list(tables)!r}"]
    lines += ["", "", "def test_the_flow_loads() -> None:", f"    assert isinstance({function}, Flow)"]
    if tables:
        lines += [
            "",
            "",
            "def test_every_table_has_its_query() -> None:",
            "    for table in TABLES:",
            f'        assert read_query("{module}", table).strip()',
        ]
    return black.format_str("\n".join(lines) + "\n", mode=black.Mode(line_length=110))


def image_test(pipeline: PipelineName) -> str:
    """The image test every pipeline has (the BUILD macro expects it): the flow loads inside the image."""
    return black.format_str(
        f'''"""Written by build-support/import_pipeline.py: the flow loads inside the pipeline's image."""

from pipelines.common.image_testing import built_image, import_in_container

PIPELINE = "{pipeline.dir_name}"


def test_the_flow_loads_inside_its_image() -> None:
    run = import_in_container(built_image(PIPELINE), f"pipelines.{{PIPELINE}}.flow")
    assert run.exit_code == 0, run.output
''',
        mode=black.Mode(line_length=110),
    )


# ----------------------------------------------------------------------------------------------------------
# One pipeline


@dataclass(frozen=True)
class Options:
    root: Path
    pool_map: Mapping[str, str]
    force: bool


def import_pipeline(source: Path, options: Options, requirements: Requirements) -> Imported:
    started = time.perf_counter()
    imported = Imported(source=source, name=source.name)
    try:
        _import(source, options, requirements, imported)
    except UnusableInput as error:
        imported.error = str(error)
    except Exception as error:  # a bug of the importer must not stop the other inputs
        imported.error = (
            f"the importer failed on this input ({type(error).__name__}: {error}); please report it"
        )
    imported.seconds = time.perf_counter() - started
    return imported


def pipeline_name(source: Path, imported: Imported) -> PipelineName:
    name = source.name.strip().lower().replace("-", "_")
    try:
        pipeline = PipelineName.from_dir(name)
    except NamingError as error:
        raise UnusableInput(str(error)) from None
    if name != source.name:
        imported.changed(source.name, f"directory renamed to {name}")
    imported.name = name
    return pipeline


def detect_kind(source: Path, prefect_yaml: YamlFile) -> str:
    """``dump`` for the old dump flows (execute_query parameters or the dump template's import), else
    ``code``."""
    flow = source / "flow.py"
    if flow.is_file() and "pipelines_templates.dump_db" in flow.read_text(encoding="utf-8", errors="replace"):
        return "dump"
    return "dump" if "execute_query" in yaml.safe_dump(prefect_yaml.data) else "code"


def _import(source: Path, options: Options, requirements: Requirements, imported: Imported) -> None:
    if not source.is_dir():
        raise UnusableInput(f"{source} is not a directory")
    for required in ("prefect.yaml", "flow.py"):
        if not (source / required).is_file():
            raise UnusableInput(f"{required} is missing: every pipeline of the old layout has one")
    pipeline = pipeline_name(source, imported)
    target = options.root / "pipelines" / pipeline.dir_name
    if target.exists():
        if not options.force:
            raise UnusableInput(f"pipelines/{pipeline.dir_name} already exists: pass --force to replace it")
        imported.changed(f"pipelines/{pipeline.dir_name}", "replaced (--force)")
    old_yaml = read_yaml(source / "prefect.yaml")
    imported.kind = detect_kind(source, old_yaml)
    template = render_template(options.root, pipeline, imported.kind)
    try:
        templates_yaml = yaml.safe_load((template / "prefect.yaml").read_text())
        pools = load_pool_templates(options.root)
        converter = PrefectYamlConverter(
            old_yaml,
            imported,
            pipeline,
            pool_map=options.pool_map,
            pool_variables={
                name: list(pool["variables"].get("properties", {})) for name, pool in pools.items()
            },
            prefect_version=str(templates_yaml["prefect-version"]),
        )
        converted = converter.convert()
        if imported.kind == "dump":
            imported.changed(
                f"{source.name}/pyproject.toml",
                "requirements not imported: the generic dump needs none of them",
            )
        else:
            for requirement, where in pyproject_requirements(source, imported):
                requirements.consider(requirement, imported, where)
        staging = Path(tempfile.mkdtemp(prefix="import-pipeline-")) / pipeline.dir_name
        staging.mkdir()
        _write(source, staging, template, pipeline, converted, options.root, imported)
        check_imports(options.root, staging, pipeline, requirements, imported)
    finally:
        shutil.rmtree(template.parent.parent, ignore_errors=True)
    if target.exists():
        shutil.rmtree(target)
    shutil.move(str(staging), target)
    shutil.rmtree(staging.parent, ignore_errors=True)
    imported.problems = [str(problem) for problem in validate_pipeline(target, pools)]


def _write(
    source: Path,
    target: Path,
    template: Path,
    pipeline: PipelineName,
    converted: Converted,
    root: Path,
    imported: Imported,
) -> None:
    shutil.copy2(template / "Dockerfile", target / "Dockerfile")
    old_dockerfile_notes(source, imported)
    (target / "__init__.py").write_text("")
    globs: list[str] = []
    if imported.kind == "dump":
        shutil.copy2(template / "flow.py", target / "flow.py")
        queries = target / "queries"
        queries.mkdir()
        for name, sql in sorted(converted.queries.items()):
            (queries / f"{name}.sql").write_text(sql)
        skipped = sorted(
            path.name for path in source.glob("*.py") if path.name not in ("flow.py", "__init__.py")
        )
        imported.changed(
            f"pipelines/{pipeline.dir_name}/flow.py",
            "the generic dump's flow (pipelines/common/dump.py) replaces the old dump code",
        )
        if skipped:
            imported.changed(
                ", ".join(f"{source.name}/{name}" for name in skipped),
                "not copied: the generic dump replaces them",
            )
        globs = ["queries/*.sql"]
        function = pipeline.dir_name
    else:
        globs = copy_sources(source, target, imported)
        format_sources(root, target, imported)
        function = _flow_function(converted) or pipeline.dir_name
    (target / "BUILD").write_text(
        f"prefect_pipeline(resource_globs={globs!r})\n".replace("'", '"') if globs else "prefect_pipeline()\n"
    )
    if not (target / "image_test.py").exists():
        (target / "image_test.py").write_text(image_test(pipeline))
        imported.changed(f"pipelines/{pipeline.dir_name}/image_test.py", "the flow loads inside its image")
    if not (target / "flow_test.py").exists():
        (target / "flow_test.py").write_text(smoke_test(pipeline, function, sorted(converted.queries)))
        imported.changed(
            f"pipelines/{pipeline.dir_name}/flow_test.py",
            "a first test: the flow loads" + (" and its queries are read" if converted.queries else ""),
        )
    header = (
        f"# Deployments of {pipeline.dir_name}, imported from the old repository by "
        "build-support/import_pipeline.py (docs/importar.md).\n"
    )
    (target / "prefect.yaml").write_text(header + dump_yaml(converted.config))


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as this repository's prefect.yaml files are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump_yaml(config: Mapping[str, Any]) -> str:
    text = yaml.dump(config, Dumper=_IndentedDumper, sort_keys=False, allow_unicode=True, width=110)
    # A blank line before each deployment, and before the top-level keys that open a section.
    text = re.sub(r"\n(  - name: )", r"\n\n\1", text)
    return re.sub(r"\n(build|pull|deployments):", r"\n\n\1:", text)


def _flow_function(converted: Converted) -> str | None:
    for deployment in converted.config["deployments"]:
        return str(deployment["entrypoint"]).rpartition(":")[2]
    return None


# ----------------------------------------------------------------------------------------------------------
# The report and the command line


def report(console: Console, results: Sequence[Imported]) -> None:
    for result in results:
        title = f"{result.source.name} -> pipelines/{result.name} ({result.kind}, {result.seconds:.1f} s)"
        if result.error:
            console.print(
                f"[bold red]✕ {escape(str(result.source))}: not imported[/]: {escape(result.error)}"
            )
            continue
        table = Table(title=title, title_justify="left", show_lines=False, expand=True)
        table.add_column("", width=2)
        table.add_column("Onde", overflow="fold", ratio=2)
        table.add_column("O quê", overflow="fold", ratio=5)
        for note in sorted(result.notes, key=_report_order):
            table.add_row("[yellow]![/]" if note.todo else "[green]✓[/]", Text(note.where), Text(note.text))
        for problem in result.problems:
            table.add_row("[red]✕[/]", "validator", Text(problem))
        console.print(table)
    imported = [result for result in results if not result.error]
    todo = sum(1 for result in imported for note in result.notes if note.todo)
    console.print(
        f"{len(imported)} of {len(results)} pipeline(s) imported; {todo} item(s) marked ! to do by hand "
        "(docs/importar.md)."
    )


def _report_order(note: Note) -> tuple[bool, str, int, str]:
    """Changes first, then what is left to do; by file, then by line number."""
    path, _, line = note.where.rpartition(":")
    if not line.isdigit():
        path, line = note.where, "0"
    return note.todo, path, int(line), note.text


def repo_root() -> Path:
    """The repository ./pants runs in (it exports its root), else the current directory."""
    root = Path(os.environ.get(REPO_ROOT_ENV) or Path.cwd())
    if not (root / "templates").is_dir() or not (root / "3rdparty/python/requirements.txt").is_file():
        raise SystemExit(
            f"{root} não é a raiz do repositório: rode ./pants run build-support/import_pipeline.py"
        )
    return root


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="./pants run build-support/import_pipeline.py --",
        description="Importa pipelines do layout antigo para pipelines/<nome>/ (docs/importar.md).",
    )
    parser.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="diretório de uma pipeline antiga")
    parser.add_argument(
        "--pool-map",
        action="append",
        default=[],
        metavar="ANTIGO=NOVO",
        help=f"work pool antigo -> um de {', '.join(WORK_POOLS)} (padrão: k3s-pool=default-pool)",
    )
    parser.add_argument("--no-refresh", action="store_true", help="não atualiza as versões fixadas (pins)")
    parser.add_argument("--force", action="store_true", help="substitui pipelines que já existem")
    args = parser.parse_args(argv)
    pool_map = dict(DEFAULT_POOL_MAP)
    for item in args.pool_map:
        old, separator, new = item.partition("=")
        if not separator or not old or new not in WORK_POOLS:
            parser.error(f"--pool-map {item!r}: use ANTIGO=NOVO, com NOVO um de {', '.join(WORK_POOLS)}")
        pool_map[old] = new
    args.pool_map = pool_map
    return args


def main(
    argv: Sequence[str] | None = None, *, root: Path | None = None, console: Console | None = None
) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    root = root or repo_root()
    console = console or Console()
    options = Options(root=root, pool_map=args.pool_map, force=args.force)
    requirements = Requirements.read(root)
    results = [import_pipeline(directory.resolve(), options, requirements) for directory in args.dirs]
    requirements.write()
    refresh_error = None
    if requirements.added:
        if args.no_refresh:
            console.print(
                "[yellow]Requisitos acrescentados sem atualizar os pins (--no-refresh): rode "
                "`python3 3rdparty/python/refresh_pins.py` antes de qualquer ./pants.[/]"
            )
        else:
            console.print(f"Atualizando os pins ({len(requirements.added)} requisito(s) novo(s))...")
            refresh_error = refresh_pins(root)
    report(console, results)
    if refresh_error:
        console.print(
            "[bold red]✕ refresh_pins.py falhou[/] (um requisito importado não resolve?):\n"
            + escape(refresh_error)
        )
    return 1 if refresh_error or any(result.error for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
