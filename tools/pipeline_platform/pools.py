"""Work pools: the committed Kubernetes base job templates, applied to a Prefect server (rendered by the
tests with manifests.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
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


def _description(template: Mapping[str, Any]) -> str | None:
    description = template.get("variables", {}).get("description")
    return description if isinstance(description, str) else None
