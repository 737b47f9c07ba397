"""Which pipelines a change affects, and why: Pants answers, this module maps targets to pipelines.

A pipeline whose ``:image`` target is affected gets its image rebuilt and its deployments registered; one
whose only affected target is ``:deployments`` (its prefect.yaml) only gets its deployments registered. The
reason given for each is a dependency path from a changed target to the pipeline's target, found in the same
graph Pants used (the shortest one, as ``./pants paths`` lists them).

A change confined to pipeline directories is answered from the graph of those directories alone: the
dependents rules of pipelines/BUILD let nothing outside a pipeline's directory depend on its targets, so the
walk of the whole repository (its cost grows with the number of pipelines) would find nothing more.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from pathlib import Path

from pipeline_platform.pants import TargetGraph, peek, peek_all, peek_changed
from pipeline_platform.repo import (
    DEPLOYMENTS_FILE,
    NULL_SHA,
    PIPELINES_DIR,
    changed_files,
    default_base_revision,
    deployments_address,
    image_address,
    pipeline_dirs,
    pipeline_names,
    resolve_revision,
)
from pipelines.common.naming import PIPELINE_DIR_PATTERN, NamingError, PipelineName

# Files that change what Pants builds but that `--changed-since` cannot see: any change to them means every
# pipeline is affected.
INVISIBLE_TO_PANTS = ("pants", "pants.toml", "pants.ci.toml", "build-support/macros/*")
WHOLE_REPOSITORY = "the whole repository"


class Action(enum.Enum):
    BUILD_AND_REGISTER = "rebuild image + register"
    REGISTER = "register only"

    @property
    def builds_image(self) -> bool:
        return self is Action.BUILD_AND_REGISTER


@dataclass(frozen=True)
class Reason:
    """Why a pipeline is in the plan: ``changed`` (a file, target or flag) and the dependency path from it."""

    changed: str
    path: tuple[str, ...] = ()

    def __str__(self) -> str:
        if len(self.path) <= 1:
            return self.changed
        chain = " → ".join(self.path)
        return chain if self.path[0] == self.changed else f"{self.changed}: {chain}"


@dataclass(frozen=True)
class AffectedPipeline:
    pipeline: PipelineName
    action: Action
    reason: Reason

    @property
    def image_address(self) -> str:
        return image_address(self.pipeline)


@dataclass(frozen=True)
class Plan:
    """The affected pipelines of one change set, sorted by pipeline directory."""

    description: str
    pipelines: tuple[AffectedPipeline, ...]
    changed_files: tuple[str, ...] = ()
    removed_pipelines: tuple[str, ...] = ()
    unowned_files: tuple[str, ...] = ()
    # The part of the target graph walked: the whole repository, or the changed pipelines' directories.
    scope: str = WHOLE_REPOSITORY

    @property
    def to_build(self) -> tuple[AffectedPipeline, ...]:
        return tuple(item for item in self.pipelines if item.action.builds_image)

    def names(self) -> list[str]:
        return [item.pipeline.dir_name for item in self.pipelines]


def plan_for(
    repo: Path, *, every: bool = False, pipeline: str | None = None, changed_since: str | None = None
) -> Plan:
    """The deploy's plan: every pipeline, one, or those changed since a revision (default: the merge base)."""
    if every:
        return plan_all(repo)
    if pipeline:
        return plan_pipeline(repo, pipeline)
    since = changed_since if changed_since not in (None, "", NULL_SHA) else None
    if since is None:
        base = default_base_revision(repo)
        return plan_since(repo, base, f"changes since {base[:12]} (merge base with master)")
    return plan_since(repo, resolve_revision(repo, since), f"changes since {since}")


def plan_all(repo: Path, description: str = "--all: every pipeline") -> Plan:
    reason = Reason(description.split(":", 1)[0])
    return Plan(
        description,
        tuple(AffectedPipeline(name, Action.BUILD_AND_REGISTER, reason) for name in pipeline_names(repo)),
    )


def plan_pipeline(repo: Path, name: str) -> Plan:
    """``--pipeline NAME`` (a directory name such as rj_smtr__gps_brt, or its image name rj-smtr--gps-brt)."""
    wanted = parse_pipeline_name(name)
    known = pipeline_names(repo)
    if wanted not in known:
        choices = ", ".join(item.dir_name for item in known)
        raise NamingError(f"no pipeline {name!r} in {PIPELINES_DIR}/ (known: {choices})")
    return Plan(
        f"--pipeline {wanted.dir_name}",
        (AffectedPipeline(wanted, Action.BUILD_AND_REGISTER, Reason("--pipeline")),),
    )


def parse_pipeline_name(name: str) -> PipelineName:
    candidate = name.strip().rstrip("/").rsplit("/", 1)[-1]
    if candidate.startswith("rj-") and "--" in candidate:
        secretaria, _, pipeline = candidate[3:].partition("--")
        candidate = f"rj_{secretaria.replace('-', '_')}__{pipeline.replace('-', '_')}"
    return PipelineName.from_dir(candidate)


def plan_since(repo: Path, since: str, description: str | None = None) -> Plan:
    """Pipelines affected by the changes between ``since`` and the working tree (one Pants run).

    When every changed file is an existing file of a pipeline directory (no BUILD file: Pants counts every
    target a changed BUILD file declares as changed), only those directories' graph is walked.
    """
    files = changed_files(repo, since)
    description = description or f"changes since {since[:12]}"
    if invisible := _invisible_to_pants(files):
        return _everything(repo, description, files, invisible)
    if not files:
        return Plan(description, ())
    if directories := confining_pipeline_dirs(repo, files):
        return plan_within(repo, directories, files, description)
    return plan_since_whole_repo(repo, since, files, description)


def plan_since_whole_repo(repo: Path, since: str, files: Sequence[str], description: str) -> Plan:
    """``files`` changed since ``since``: their targets and all their transitive dependents in the repo."""
    return _plan_from_graph(repo, peek_changed(repo, since), files, description)


def plan_within(repo: Path, directories: Sequence[str], files: Sequence[str], description: str) -> Plan:
    """``files`` changed, all inside the pipeline ``directories``: the plan from those directories' graph.

    The BUILD files above them (pipelines/ and the root) are read too: only they could declare another target
    owning a pipeline's files (none does), and the owners found, and the files reported unowned, must be the
    ones Pants would find.
    """
    specs = [f"{directory}::" for directory in directories]
    graph = peek(repo, *specs, f"{PIPELINES_DIR}:", "//:")
    return replace(_plan_from_dependents(repo, graph, files, description), scope=" ".join(specs))


def confining_pipeline_dirs(repo: Path, files: Iterable[str]) -> list[str]:
    """The pipeline directories holding ``files``; [] if one is outside them, deleted or a BUILD file."""
    known = {path.name for path in pipeline_dirs(repo) if (path / "BUILD").is_file()}
    directories = set()
    for file in files:
        parts = Path(file).parts
        if (
            len(parts) < 3
            or parts[0] != PIPELINES_DIR
            or parts[1] not in known
            or parts[-1] == "BUILD"
            or parts[-1].startswith("BUILD.")
            or not (repo / file).is_file()
        ):
            return []
        directories.add(f"{PIPELINES_DIR}/{parts[1]}")
    return sorted(directories)


def plan_for_files(
    repo: Path, files: Sequence[str], description: str | None = None, graph: TargetGraph | None = None
) -> Plan:
    """Pipelines that changing ``files`` would affect, from the whole dependency graph (one Pants run).

    ``graph`` is that whole graph when the caller already has it (``peek_all``).
    """
    relative = sorted({_relative_to(repo, file) for file in files})
    description = description or f"changes to {', '.join(relative)}"
    if invisible := _invisible_to_pants(relative):
        return _everything(repo, description, relative, invisible)
    graph = graph if graph is not None else peek_all(repo)
    return _plan_from_dependents(repo, graph, relative, description)


def _plan_from_dependents(repo: Path, graph: TargetGraph, files: Sequence[str], description: str) -> Plan:
    """The plan from ``graph`` holding (at least) the owners of ``files`` and all their dependents."""
    affected = graph.subgraph(graph.transitive_dependents(graph.owners(files)))
    return _plan_from_graph(repo, affected, files, description)


def _plan_from_graph(repo: Path, graph: TargetGraph, files: Sequence[str], description: str) -> Plan:
    roots = graph.owners(files)
    leaves = {
        address
        for address, target in graph.targets.items()
        if not any(dependency in graph for dependency in target.dependencies)
    }
    owned = {source for address in roots for source in graph.targets[address].sources}
    pipelines: list[AffectedPipeline] = []
    for name in pipeline_names(repo):
        for address, action in (
            (image_address(name), Action.BUILD_AND_REGISTER),
            (deployments_address(name), Action.REGISTER),
        ):
            if address in graph:
                pipelines.append(
                    AffectedPipeline(name, action, _reason(graph, address, roots, leaves, files))
                )
                break
    return Plan(
        description,
        tuple(pipelines),
        changed_files=tuple(files),
        removed_pipelines=_removed_pipelines(repo, files),
        unowned_files=tuple(file for file in files if file not in owned and (repo / file).exists()),
    )


def _reason(
    graph: TargetGraph, target: str, roots: set[str], leaves: set[str], files: Sequence[str]
) -> Reason:
    path = graph.shortest_path(target, roots) or graph.shortest_path(target, leaves) or [target]
    path.reverse()
    start = graph.targets[path[0]]
    changed = next((file for file in files if file in start.sources), path[0])
    return Reason(changed, tuple(path))


def _everything(repo: Path, description: str, files: Sequence[str], invisible: Sequence[str]) -> Plan:
    reason = Reason(f"{invisible[0]} changed (Pants cannot see it: every pipeline is affected)")
    return Plan(
        description,
        tuple(AffectedPipeline(name, Action.BUILD_AND_REGISTER, reason) for name in pipeline_names(repo)),
        changed_files=tuple(files),
        removed_pipelines=_removed_pipelines(repo, files),
    )


def _invisible_to_pants(files: Iterable[str]) -> list[str]:
    return [file for file in files if any(fnmatch(file, pattern) for pattern in INVISIBLE_TO_PANTS)]


def _removed_pipelines(repo: Path, files: Iterable[str]) -> tuple[str, ...]:
    removed = set()
    for file in files:
        parts = Path(file).parts
        if (
            len(parts) == 3
            and parts[0] == PIPELINES_DIR
            and parts[2] == DEPLOYMENTS_FILE
            and PIPELINE_DIR_PATTERN.match(parts[1])
            and not (repo / file).exists()
        ):
            removed.add(parts[1])
    return tuple(sorted(removed))


def _relative_to(repo: Path, file: str) -> str:
    path = Path(file)
    if path.is_absolute():
        return path.resolve().relative_to(repo.resolve()).as_posix()
    absolute = (Path.cwd() / path).resolve()
    try:
        return absolute.relative_to(repo.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
