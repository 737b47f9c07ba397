"""Registration against a real Prefect server: upserts, schedules, pruning and retries."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client

from pipeline_platform.image_refs import ImageResult, ImageStatus
from pipeline_platform.pools import apply_pools, load_pool_templates
from pipeline_platform.register import RetryPolicy, is_transient, prune, register_pipeline, with_retries
from pipeline_platform.repo_root import find_repo_root
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


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_api_is_retried_with_backoff_then_reported() -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/health"
    calls: list[float] = []
    retries: list[tuple[int, float]] = []

    async def call() -> int:
        calls.append(asyncio.get_running_loop().time())
        async with httpx.AsyncClient() as client:
            return (await client.get(url)).status_code

    with pytest.raises(httpx.ConnectError):
        asyncio.run(with_retries(FAST, call, lambda attempt, _error, sleep: retries.append((attempt, sleep))))

    assert len(calls) == FAST.attempts
    assert [attempt for attempt, _ in retries] == [1, 2]
    assert all(0 < sleep <= FAST.max_seconds for _, sleep in retries)


def test_a_transient_failure_then_success_counts_the_attempts(prefect_harness: None) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/api/health"
    outcomes = iter([dead, dead])

    async def call() -> int:
        async with get_client() as client:
            url = next(outcomes, None)
            if url is not None:
                async with httpx.AsyncClient() as plain:
                    return (await plain.get(url)).status_code
            return (await client.hello()).status_code

    status, attempts = asyncio.run(with_retries(FAST, call))

    assert (status, attempts) == (200, 3)


def test_only_transport_errors_and_retryable_statuses_are_transient() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/api/deployments/")

    def status_error(code: int) -> httpx.HTTPStatusError:
        return httpx.HTTPStatusError("x", request=request, response=httpx.Response(code, request=request))

    assert is_transient(httpx.ConnectError("refused", request=request))
    assert is_transient(httpx.ReadTimeout("slow", request=request))
    assert all(is_transient(status_error(code)) for code in (408, 429, 500, 502, 503, 504))
    assert not any(is_transient(status_error(code)) for code in (400, 404, 409, 422))
    assert not is_transient(ValueError("bad spec"))
