"""Registration against a real Prefect server: upserts, schedules, pruning and retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline_platform.image_refs import ImageResult, ImageStatus
from pipeline_platform.pools import apply_pools, load_pool_templates
from pipeline_platform.register import prune, register_pipeline
from pipeline_platform.repo_root import find_repo_root
from pipeline_platform.retries import RetryPolicy
from pipeline_platform.spec import PipelineSpec, load_pipeline
from pipeline_platform.testing import IMAGE, PIPELINE, deployment, prefect_yaml, write_pipeline
from pipeline_platform.testing import run_with_client as run
from pipelines.common.naming import PipelineName

TEMPLATES = find_repo_root() / "infra" / "work-pools"
FAST = RetryPolicy(attempts=3, initial_seconds=0.05, max_seconds=0.1)


@pytest.fixture(scope="module")
def server(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> None:
    templates = load_pool_templates(find_repo_root())
    run(lambda client: apply_pools(client, templates))


def spec_from(tmp_path: Path, document: dict[str, Any]) -> PipelineSpec:
    return load_pipeline(write_pipeline(tmp_path, document, templates=TEMPLATES))


def register(spec: PipelineSpec, tag: str) -> Any:
    image = ImageResult(PipelineName.from_dir(PIPELINE), f"{IMAGE}:{tag}", ImageStatus.BUILT)
    return run(lambda client: register_pipeline(client, spec, "staging", image, tag, FAST))


def read(name: str) -> Any:
    return run(lambda client: client.read_deployment_by_name(f"{PIPELINE}/{name}"))


def test_registering_twice_upserts_and_replaces_the_schedules(server: None, tmp_path: Path) -> None:
    first = register(spec_from(tmp_path, prefect_yaml()), "aaaaaaa")
    assert first.ok, first
    registered = read(f"{IMAGE}--staging")
    assert registered.work_pool_name == "datario-pool"
    assert registered.job_variables == {
        "image": f"{IMAGE}:aaaaaaa",
        "secretName": "prefect-jobs-secrets-staging",
        "image_pull_policy": "Always",
    }
    assert registered.version == "aaaaaaa"
    assert registered.parameters == {"table": "chamado"}
    assert registered.entrypoint == f"pipelines/{PIPELINE}/flow.py:{PIPELINE}"
    assert registered.pull_steps == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "/opt/prefect"}}
    ]
    assert sorted(schedule.schedule.cron for schedule in registered.schedules) == [
        "0 3 * * *",
        "30 12 * * 1-5",
    ]
    assert {schedule.active for schedule in registered.schedules} == {False}

    one_schedule = [{"cron": "*/15 * * * *", "timezone": "America/Sao_Paulo", "active": True}]
    document = prefect_yaml(deployments=[deployment("prod"), deployment("staging", schedules=one_schedule)])
    second = register(spec_from(tmp_path, document), "bbbbbbb")
    assert second.ok, second
    again = read(f"{IMAGE}--staging")
    assert again.id == registered.id
    assert [(schedule.schedule.cron, schedule.active) for schedule in again.schedules] == [
        ("*/15 * * * *", True)
    ]
    assert again.job_variables["image"] == f"{IMAGE}:bbbbbbb"

    no_schedules = prefect_yaml(deployments=[deployment("staging", schedules=[])])
    assert register(spec_from(tmp_path, no_schedules), "ccccccc").ok
    assert read(f"{IMAGE}--staging").schedules == []


def test_prune_deletes_only_this_environments_deployments_that_are_gone(server: None, tmp_path: Path) -> None:
    assert register(spec_from(tmp_path, prefect_yaml()), "ddddddd").ok
    spec = spec_from(tmp_path, prefect_yaml(deployments=[deployment("staging")]))

    async def add_stray_ones(client: Any) -> None:
        flow_id = await client.create_flow_from_name(PIPELINE)
        await client.create_deployment(flow_id=flow_id, name="rj-teste--antigo--staging")
        await client.create_deployment(flow_id=flow_id, name="rj-teste--antigo--prod")
        await client.create_deployment(flow_id=flow_id, name="feito-a-mao--staging")

    run(add_stray_ones)
    keep = {deployment.full_name for deployment in spec.for_environment("staging")}

    would = run(lambda client: prune(client, "staging", keep, dry_run=True))
    removed = run(lambda client: prune(client, "staging", keep))

    assert removed == would == [f"{PIPELINE}/rj-teste--antigo--staging"]
    remaining = run(lambda client: client.read_deployments())
    names = {item.name for item in remaining}
    assert {"rj-teste--antigo--prod", "feito-a-mao--staging", f"{IMAGE}--staging"} <= names
    assert "rj-teste--antigo--staging" not in names
