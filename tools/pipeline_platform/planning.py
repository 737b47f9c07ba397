"""The plan as a table: which pipelines, why, which image, which deployments (dry run, graph command)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline_platform.affected import WHOLE_REPOSITORY, Plan
from pipeline_platform.image_refs import planned_reference
from pipeline_platform.spec import PipelineSpec, Problem
from pipeline_platform.summary import Report

MAX_LISTED_FILES = 10


def plan_report(
    plan: Plan,
    specs: Mapping[str, PipelineSpec],
    environment: str | None,
    tag: str,
    registry: str | None,
    *,
    dry_run: bool = False,
) -> Report:
    rows: list[tuple[str, ...]] = []
    for item in plan.pipelines:
        name = item.pipeline.dir_name
        if item.action.builds_image:
            image = planned_reference(item.pipeline, tag, registry)
        else:
            image = "unchanged (the image its deployments run now)"
        spec = specs.get(name)
        if spec is None:
            deployments = "(prefect.yaml invalid: see below)"
        else:
            chosen = spec.for_environment(environment) if environment else spec.deployments
            deployments = "\n".join(deployment.name for deployment in chosen) or f"none for {environment}"
        rows.append((name, item.action.value, str(item.reason), image, deployments))
    notes = [plan.description]
    if plan.changed_files:
        listed = ", ".join(plan.changed_files[:MAX_LISTED_FILES])
        more = len(plan.changed_files) - MAX_LISTED_FILES
        notes.append(
            f"{len(plan.changed_files)} changed file(s): {listed}" + (f" and {more} more" if more > 0 else "")
        )
    if plan.scope != WHOLE_REPOSITORY:
        notes.append(
            f"dependency graph walked: {plan.scope} only (the dependency rules keep every other pipeline"
            " from depending on them)"
        )
    if plan.unowned_files:
        notes.append(f"owned by no target, so they deploy nothing: {', '.join(plan.unowned_files)}")
    for removed in plan.removed_pipelines:
        notes.append(f"pipelines/{removed} was removed: its deployments go away with --prune")
    title = "Plan (dry run)" if dry_run else "Plan"
    if environment:
        title += f" for {environment}"
    return Report(
        title,
        ("Pipeline", "Action", "Why (changed → … → target)", "Image", "Deployments"),
        rows,
        notes,
        empty="no pipeline affected: nothing to build or deploy",
    )


def problems_report(problems: Sequence[Problem]) -> Report:
    return Report(
        "prefect.yaml problems",
        ("File", "Problem"),
        [(problem.where, problem.reason) for problem in problems],
    )


def plan_json(
    plan: Plan, specs: Mapping[str, PipelineSpec], environment: str | None, tag: str, registry: str | None
) -> dict[str, Any]:
    """The plan for machines (workflows, tests): same content as the table."""
    pipelines = []
    for item in plan.pipelines:
        spec = specs.get(item.pipeline.dir_name)
        chosen = (
            () if spec is None else (spec.for_environment(environment) if environment else spec.deployments)
        )
        pipelines.append(
            {
                "pipeline": item.pipeline.dir_name,
                "action": item.action.name.lower(),
                "changed": item.reason.changed,
                "path": list(item.reason.path),
                "image": (
                    planned_reference(item.pipeline, tag, registry) if item.action.builds_image else None
                ),
                "deployments": [deployment.name for deployment in chosen],
                "valid": spec is not None,
            }
        )
    return {
        "description": plan.description,
        "changed_files": list(plan.changed_files),
        "unowned_files": list(plan.unowned_files),
        "removed_pipelines": list(plan.removed_pipelines),
        "scope": plan.scope,
        "pipelines": pipelines,
    }
