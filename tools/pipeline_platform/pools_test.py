"""The committed Kubernetes work pool templates: rendered as the worker would, applied to a real server."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest
from prefect.client.orchestration import get_client

from pipeline_platform.manifests import render_job
from pipeline_platform.pools import POOL_TYPE, apply_pools, load_pool_templates
from pipeline_platform.repo_root import find_repo_root
from pipelines.common.naming import SECRET_NAMES, WORK_POOLS

REPO = find_repo_root()


def test_every_work_pool_has_a_template_with_a_required_secret_name() -> None:
    templates = load_pool_templates(REPO)

    assert set(templates) == set(WORK_POOLS)
    for template in templates.values():
        assert "secretName" in template["variables"]["required"]
        assert template["variables"]["properties"]["secretName"]["type"] == "string"


@pytest.mark.parametrize("pool", WORK_POOLS)
@pytest.mark.parametrize("environment", list(SECRET_NAMES))
def test_a_job_rendered_from_the_template_runs_the_image_with_the_secret_as_environment(
    prefect_harness: None, pool: str, environment: str
) -> None:
    template = load_pool_templates(REPO)[pool]
    variables = {
        "image": "rj-segovi--dump-db-1746:0a1b2c3",
        "secretName": SECRET_NAMES[environment],
        "image_pull_policy": "Always",
    }

    async def render() -> Any:
        async with get_client() as client:
            return await render_job(template, variables, client)

    job = asyncio.run(render())

    container = job.manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "rj-segovi--dump-db-1746:0a1b2c3"
    assert container["envFrom"] == [{"secretRef": {"name": SECRET_NAMES[environment]}}]
    assert container["imagePullPolicy"] == "Always"
    assert job.manifest["metadata"]["namespace"] == "prefect"
    assert job.manifest["kind"] == "Job"


def test_applying_the_templates_creates_then_leaves_alone_then_updates(prefect_harness: None) -> None:
    templates = load_pool_templates(REPO)
    changed = copy.deepcopy(templates)
    changed["default-pool"]["variables"]["properties"]["namespace"]["default"] = "outro"

    async def apply(current: dict[str, dict[str, Any]]) -> list[str]:
        async with get_client() as client:
            return [change.action for change in await apply_pools(client, current)]

    async def read(name: str) -> Any:
        async with get_client() as client:
            return await client.read_work_pool(name)

    assert asyncio.run(apply(templates)) == ["created", "created"]
    assert asyncio.run(apply(templates)) == ["unchanged", "unchanged"]
    assert asyncio.run(apply(changed)) == ["updated", "unchanged"]
    pool = asyncio.run(read("default-pool"))
    assert pool.type == POOL_TYPE
    assert pool.base_job_template == changed["default-pool"]
