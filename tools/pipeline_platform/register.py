"""Registration of deployments through Prefect's API, in this one process, with retries and pruning.

Each deployment is one upsert (``POST /deployments/`` keyed by flow and name): re-running changes nothing but
the timestamps, creates no duplicates, and replaces the deployment's schedules with exactly those of its
prefect.yaml, so removed schedules disappear. Transient API errors (connection failures, 408/429/5xx) are
retried with exponential backoff and jitter; anything else fails that deployment at once. A failing pipeline
does not stop the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.exceptions import ObjectNotFound

from pipeline_platform.image_refs import ImageResult
from pipeline_platform.retries import RetryPolicy, with_retries
from pipeline_platform.spec import DeploymentSpec, PipelineSpec

T = TypeVar("T")
PAGE = 200


@dataclass
class DeploymentOutcome:
    name: str
    attempts: int = 0
    deployment_id: UUID | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.deployment_id is not None


@dataclass
class PipelineOutcome:
    spec: PipelineSpec | None
    pipeline_dir_name: str
    image: ImageResult | None
    deployments: list[DeploymentOutcome] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(item.ok for item in self.deployments)

    @property
    def retries(self) -> int:
        return sum(max(item.attempts - 1, 0) for item in self.deployments)


async def register_deployment(
    client: PrefectClient, spec: DeploymentSpec, *, image: str, image_tag: str
) -> UUID:
    """One upsert of ``spec`` with the build's image reference; the image tag doubles as the version."""
    flow_id = await client.create_flow_from_name(spec.flow_name)
    return await client.create_deployment(
        flow_id=flow_id,
        name=spec.name,
        version=image_tag,
        schedules=spec.schedule_objects(),
        parameters=dict(spec.parameters),
        description=spec.description,
        work_pool_name=spec.work_pool,
        work_queue_name=spec.work_queue,
        tags=list(spec.tags),
        entrypoint=spec.entrypoint,
        parameter_openapi_schema=dict(spec.parameter_schema),
        paused=spec.paused,
        pull_steps=[dict(step) for step in spec.pull_steps],
        enforce_parameter_schema=spec.enforce_parameter_schema,
        job_variables=spec.rendered_job_variables(image_tag, image),
        concurrency_limit=spec.concurrency_limit,
    )


async def register_pipeline(
    client: PrefectClient,
    spec: PipelineSpec,
    environment: str,
    image: ImageResult,
    image_tag: str,
    policy: RetryPolicy,
    on_retry: Callable[[str, int, BaseException, float], None] | None = None,
) -> PipelineOutcome:
    """Registers every deployment of ``environment`` in ``spec``; failures are recorded, not raised."""
    outcome = PipelineOutcome(spec, spec.pipeline.dir_name, image)
    for deployment in spec.for_environment(environment):
        outcome.deployments.append(
            await _register_one(client, deployment, image, image_tag, policy, on_retry)
        )
    return outcome


async def _register_one(
    client: PrefectClient,
    deployment: DeploymentSpec,
    image: ImageResult,
    image_tag: str,
    policy: RetryPolicy,
    on_retry: Callable[[str, int, BaseException, float], None] | None,
) -> DeploymentOutcome:
    result = DeploymentOutcome(deployment.name)

    async def upsert() -> UUID:
        result.attempts += 1
        return await register_deployment(client, deployment, image=image.reference, image_tag=image_tag)

    def retry_hook(attempt: int, error: BaseException, sleep: float) -> None:
        if on_retry is not None:
            on_retry(deployment.name, attempt, error, sleep)

    try:
        result.deployment_id, _ = await with_retries(policy, upsert, retry_hook)
    except Exception as error:
        result.error = describe_error(error)
    return result


async def current_image(client: PrefectClient, spec: PipelineSpec, environment: str) -> str | None:
    """The image the environment's deployments of ``spec`` run now (None when not registered yet)."""
    for deployment in spec.for_environment(environment):
        try:
            registered = await client.read_deployment_by_name(deployment.full_name)
        except ObjectNotFound:
            continue
        image = (registered.job_variables or {}).get("image")
        if isinstance(image, str) and image:
            return image
    return None


async def read_current_image(
    client: PrefectClient, spec: PipelineSpec, environment: str, policy: RetryPolicy
) -> str | None:
    """``current_image`` with transient API errors retried; the last error if every attempt fails."""

    async def read() -> str | None:
        return await current_image(client, spec, environment)

    image, _ = await with_retries(policy, read)
    return image


@dataclass(frozen=True)
class PruneResult:
    removed: tuple[str, ...] = ()
    error: str | None = None


async def prune(
    client: PrefectClient, environment: str, keep: set[str], *, dry_run: bool = False
) -> list[str]:
    """Deletes the environment's deployments (``rj-...--<env>``) whose ``flow/name`` is not in ``keep``."""
    suffix = f"--{environment}"
    flows = {flow.id: flow.name for flow in await _all(client.read_flows)}
    removed: list[str] = []
    offset = 0
    candidates = []
    while True:
        page = await client.read_deployments(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(like_=suffix)),
            limit=PAGE,
            offset=offset,
        )
        candidates.extend(page)
        if len(page) < PAGE:
            break
        offset += PAGE
    for deployment in sorted(candidates, key=lambda item: item.name):
        full_name = f"{flows.get(deployment.flow_id, '?')}/{deployment.name}"
        if deployment.name.startswith("rj-") and deployment.name.endswith(suffix) and full_name not in keep:
            if not dry_run:
                await client.delete_deployment(deployment.id)
            removed.append(full_name)
    return removed


async def _all(read: Callable[..., Awaitable[Sequence[T]]]) -> list[T]:
    items: list[T] = []
    while True:
        page = await read(limit=PAGE, offset=len(items))
        items.extend(page)
        if len(page) < PAGE:
            return items


def describe_error(error: BaseException) -> str:
    if isinstance(error, httpx.HTTPStatusError):
        try:
            detail = error.response.json().get("detail", error.response.text)
        except ValueError:
            detail = error.response.text
        hint = ""
        if error.response.status_code == 404 and "Work pool" in str(detail):
            hint = " (create the work pools: ./pants run tools/work_pools.py)"
        return f"HTTP {error.response.status_code}: {detail}{hint}"
    if isinstance(error, httpx.TransportError):
        return f"API unreachable ({type(error).__name__}: {error or 'no detail'})"
    return f"{type(error).__name__}: {error}"
