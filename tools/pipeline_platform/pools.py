"""Work pools: the committed Kubernetes base job templates, applied to a Prefect server and rendered.

Rendering goes through prefect-kubernetes's own job configuration (imported when rendering only: the deploy
tool's other paths do not load the Kubernetes client).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
from prefect.client.schemas.objects import FlowRun, WorkPool
from prefect.exceptions import ObjectNotFound

from pipelines.common.naming import WORK_POOLS

POOLS_DIR = Path("infra/work-pools")
POOL_TYPE = "kubernetes"
PoolTemplates = Mapping[str, Mapping[str, Any]]


def load_pool_templates(repo: Path) -> dict[str, dict[str, Any]]:
    """Base job templates by pool name, from ``infra/work-pools/<pool>.json``."""
    directory = repo / POOLS_DIR
    if not directory.is_dir():
        return {}
    return {path.stem: json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))}


@dataclass(frozen=True)
class PoolChange:
    name: str
    action: str  # "created", "updated" or "unchanged"


async def apply_pools(
    client: PrefectClient, templates: PoolTemplates, names: Iterable[str] = WORK_POOLS
) -> list[PoolChange]:
    """Creates each pool from its template, or updates the template of an existing one (idempotent)."""
    changes: list[PoolChange] = []
    for name in names:
        template = dict(templates[name])
        try:
            existing = await client.read_work_pool(name)
        except ObjectNotFound:
            await client.create_work_pool(
                WorkPoolCreate(
                    name=name, type=POOL_TYPE, base_job_template=template, description=_description(template)
                )
            )
            changes.append(PoolChange(name, "created"))
            continue
        if existing.type != POOL_TYPE:
            raise ValueError(
                f"work pool {name!r} exists with type {existing.type!r}, not {POOL_TYPE!r}: delete it first"
            )
        if existing.base_job_template == template:
            changes.append(PoolChange(name, "unchanged"))
            continue
        await client.update_work_pool(
            name, WorkPoolUpdate(base_job_template=template, description=_description(template))
        )
        changes.append(PoolChange(name, "updated"))
    return changes


@dataclass(frozen=True)
class KubernetesJob:
    """What a Kubernetes worker submits: the Job manifest, in the namespace it is created in."""

    namespace: str
    manifest: dict[str, Any]


async def render_job(
    template: Mapping[str, Any], job_variables: Mapping[str, Any], client: PrefectClient
) -> KubernetesJob:
    """The job a Kubernetes worker would build from these job variables, before its per-run additions.

    Rendered by prefect-kubernetes's own ``KubernetesWorkerJobConfiguration`` (defaults merged, placeholders
    applied, and the worker's own check of the manifest, which rejects a template the worker cannot run);
    no cluster is needed.
    """
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    configuration = await KubernetesWorkerJobConfiguration.from_template_and_values(
        dict(template), dict(job_variables), client=client
    )
    return KubernetesJob(str(configuration.namespace), dict(configuration.job_manifest))


async def render_flow_run_job(client: PrefectClient, flow_run: FlowRun, work_pool: WorkPool) -> KubernetesJob:
    """The job the Kubernetes worker would submit for ``flow_run``, built exactly as the worker builds it.

    ``resolve_for_flow_run`` reads the flow run's deployment and flow, merges their job variables over the
    pool's base job template and runs ``prepare_for_flow_run`` (environment, labels, command, name).
    """
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    configuration = await KubernetesWorkerJobConfiguration.resolve_for_flow_run(
        flow_run, client=client, work_pool=work_pool, worker_name="manifest-check"
    )
    return KubernetesJob(str(configuration.namespace), dict(configuration.job_manifest))


def _description(template: Mapping[str, Any]) -> str | None:
    description = template.get("variables", {}).get("description")
    return description if isinstance(description, str) else None
