"""Drift between the deployments the repository declares for an environment and those on the Prefect server.

``find_drift`` reads the server through Prefect's client and compares, per deployment of the environment:
missing on the server, extra on the server (named ``rj-<sec>--<pipe>--<env>`` but declared by no
prefect.yaml), and for the others the work pool, schedules, parameters, job variables, image and paused
state. Nothing is built or changed.

The image *tag* is not compared: the deploy tool tags images with the commit that built them, and a deploy
that only changes a prefect.yaml keeps the image the deployments already run, so the repository alone cannot
say which tag is right. The image *name* (``[<registry>/]<image name>``, the registry from
``PIPELINES_IMAGE_REGISTRY`` as in the deploy) is compared; the tag the server has is reported.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.responses import DeploymentResponse
from prefect.exceptions import ObjectNotFound
from rich.console import Console

from pipeline_platform import register
from pipeline_platform.image_refs import image_repository, registry, split_reference
from pipeline_platform.problems import DeployError
from pipeline_platform.repo import pipeline_dirs
from pipeline_platform.retries import RetryPolicy, retried
from pipeline_platform.session import configured_api_url, embedded_api_url, session
from pipeline_platform.spec import DeploymentSpec, PipelineSpec, load_specs
from pipeline_platform.summary import Report, show

MISSING = "missing"
EXTRA = "extra"


@dataclass(frozen=True)
class Drift:
    deployment: str  # flow/name
    kind: str  # MISSING, EXTRA or the field that differs
    repo: str = ""
    server: str = ""


@dataclass(frozen=True)
class DriftResult:
    environment: str
    declared: int
    drifts: tuple[Drift, ...]
    server_tags: Mapping[str, str]  # flow/name -> the image tag the server has (reported, not compared)

    @property
    def clean(self) -> bool:
        return not self.drifts

    def report(self) -> Report:
        rows = [(drift.deployment, drift.kind, drift.repo, drift.server) for drift in self.drifts]
        tags = Counter(self.server_tags.values())
        notes = [
            f"{self.declared} deployment(s) declared for {self.environment}, "
            f"{len(self.drifts)} difference(s)",
            "image tags on the server (not compared, they come from the build): "
            + (", ".join(f"{tag} ({count})" for tag, count in sorted(tags.items())) or "none"),
        ]
        return Report(
            f"Drift check: {self.environment}",
            ("Deployment", "Drift", "Repository", "Server"),
            rows,
            notes,
            empty="no drift: the server has exactly what the repository declares",
        )


async def find_drift(
    client: PrefectClient, specs: Sequence[PipelineSpec], environment: str, registry: str | None
) -> DriftResult:
    declared = [deployment for spec in specs for deployment in spec.for_environment(environment)]
    drifts: list[Drift] = []
    tags: dict[str, str] = {}
    for deployment in sorted(declared, key=lambda item: item.full_name):
        try:
            registered = await client.read_deployment_by_name(deployment.full_name)
        except ObjectNotFound:
            drifts.append(Drift(deployment.full_name, MISSING, "declared", "absent"))
            continue
        found, tag = compare(deployment, registered, registry)
        drifts.extend(found)
        if tag is not None:
            tags[deployment.full_name] = tag
    keep = {deployment.full_name for deployment in declared}
    extra = await register.prune(client, environment, keep, dry_run=True)
    drifts.extend(Drift(name, EXTRA, "not declared", "present") for name in extra)
    return DriftResult(environment, len(declared), tuple(drifts), tags)


def compare(
    deployment: DeploymentSpec, registered: DeploymentResponse, registry: str | None
) -> tuple[list[Drift], str | None]:
    """The differences of one deployment, and the image tag the server has."""
    server_variables = dict(registered.job_variables or {})
    server_image = server_variables.pop("image", None)
    name, tag = split_reference(server_image) if isinstance(server_image, str) else (None, None)
    expected_variables = deployment.rendered_job_variables(tag or "")
    expected_variables.pop("image", None)
    expected_image = image_repository(deployment.pipeline, registry)
    pairs: list[tuple[str, Any, Any]] = [
        ("work pool", deployment.work_pool, registered.work_pool_name),
        ("schedules", expected_schedules(deployment), server_schedules(registered, deployment)),
        ("parameters", dict(deployment.parameters), dict(registered.parameters or {})),
        ("job variables", expected_variables, server_variables),
        ("image", expected_image, name),
        ("paused", deployment.paused, registered.paused),
    ]
    drifts = [
        Drift(deployment.full_name, field, _show(repo), _show(server))
        for field, repo, server in pairs
        if repo != server
    ]
    return drifts, tag


def expected_schedules(deployment: DeploymentSpec) -> list[str]:
    """The schedules the deploy would register, each as one comparable line, sorted."""
    anchored = _anchored(deployment)
    return sorted(
        _schedule_line(item.schedule, item.active, item.parameters, anchored)
        for item in deployment.schedule_objects()
    )


def server_schedules(registered: DeploymentResponse, deployment: DeploymentSpec) -> list[str]:
    anchored = _anchored(deployment)
    return sorted(
        _schedule_line(item.schedule, item.active, item.parameters, anchored) for item in registered.schedules
    )


def _anchored(deployment: DeploymentSpec) -> bool:
    # An interval schedule's anchor is compared only where the repository sets one (else it is "now").
    return any("anchor_date" in raw for raw in deployment.schedules)


def _schedule_line(schedule: Any, active: bool | None, parameters: Any, anchored: bool) -> str:
    fields = schedule.model_dump(mode="json", exclude_none=True)
    if not anchored:
        fields.pop("anchor_date", None)
    state = "active" if active is not False else "inactive"
    extra = f" parameters={json.dumps(parameters, sort_keys=True)}" if parameters else ""
    return f"{json.dumps(fields, sort_keys=True)} {state}{extra}"


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(str(item) for item in value) or "none"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def check(repo: Path, environment: str, console: Console) -> int:
    """``deploy_prefect_flows.py --check``: 0 when the server matches the repository, 1 on drift.

    Every prefect.yaml must be valid (1 with the problems otherwise). The server is ``PREFECT_API_URL``, else
    the embedded local server's address (not started: checking an empty new server would say nothing).
    Raises DeployError when the server cannot be reached.
    """
    specs, problems = load_specs(repo, [path.name for path in pipeline_dirs(repo)])
    if problems:
        for problem in problems:
            console.print(f"[red]{problem}[/]", highlight=False)
        console.print(f"[bold red]{len(problems)} problem(s): the repository's side cannot be known.[/]")
        return 1
    api_url = configured_api_url() or embedded_api_url()
    console.print(f"Prefect API: {api_url}")

    async def read() -> DriftResult:
        async with session(api_url) as client:
            return await find_drift(client, list(specs.values()), environment, registry())

    try:
        result = asyncio.run(retried(RetryPolicy.from_env(), read))
    except httpx.TransportError as error:
        raise DeployError(
            f"cannot check {environment}: {register.describe_error(error)} at {api_url}"
        ) from error
    show(console, result.report())
    return 0 if result.clean else 1
