"""``--run DEPLOYMENT`` in embedded mode: one real flow run in the deployment's image, on the local Docker.

The registered deployments target Kubernetes pools; locally the same image runs through a Docker-type work
pool (``local-docker``, prefect-docker's default template) and an in-process Docker worker polling once. The
run is made from a twin deployment ``<name>--local-docker`` without schedules, so the registered one is
untouched.
The container uses the host network: the API URL on 127.0.0.1 is the same inside and outside it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.client.schemas.objects import State
from prefect.utilities.dockerutils import docker_client
from prefect_docker.worker import DockerWorker

LOCAL_POOL = "local-docker"
TWIN_SUFFIX = "--local-docker"
RUN_TIMEOUT_SECONDS = 900.0


class LocalRunError(RuntimeError):
    pass


@dataclass(frozen=True)
class LocalRunResult:
    deployment: str
    image: str
    flow_run_id: UUID
    flow_run_name: str
    state: State


async def run_in_local_docker(
    client: PrefectClient,
    deployment_name: str,
    printer: Callable[..., None] = print,
    timeout: float = RUN_TIMEOUT_SECONDS,
) -> LocalRunResult:
    registered = await _find_deployment(client, deployment_name)
    image = (registered.job_variables or {}).get("image")
    if not isinstance(image, str) or not _image_exists(image):
        raise LocalRunError(
            f"image {image!r} of {deployment_name} is not in the local Docker: deploy it with Docker running "
            "first (the tool builds it)"
        )
    await _ensure_docker_pool(client)
    twin_id = await client.create_deployment(
        flow_id=registered.flow_id,
        name=f"{registered.name}{TWIN_SUFFIX}",
        version=registered.version,
        description=f"Local Docker run of {registered.name} (embedded mode only).",
        work_pool_name=LOCAL_POOL,
        entrypoint=registered.entrypoint,
        pull_steps=registered.pull_steps,
        parameters=registered.parameters,
        parameter_openapi_schema=registered.parameter_openapi_schema,
        tags=[*registered.tags, "local-docker"],
        schedules=[],
        job_variables=_docker_job_variables(image),
    )
    flow_run = await client.create_flow_run_from_deployment(twin_id)
    printer(
        f"Flow run {flow_run.name!r} ({flow_run.id}) created; starting a Docker worker on {LOCAL_POOL!r}..."
    )
    worker = DockerWorker(work_pool_name=LOCAL_POOL, limit=1, create_pool_if_not_found=False)
    await worker.start(run_once=True, printer=printer)
    state = await _wait_for_final_state(client, flow_run.id, timeout)
    return LocalRunResult(registered.name, image, flow_run.id, flow_run.name, state)


async def _find_deployment(client: PrefectClient, name: str) -> Any:
    found = await client.read_deployments(
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name]))
    )
    if not found:
        raise LocalRunError(f"no deployment named {name!r} on the server (deploy it first)")
    return found[0]


def _image_exists(image: str) -> bool:
    try:
        with docker_client() as docker:
            docker.images.get(image)
    except Exception:
        return False
    return True


async def _ensure_docker_pool(client: PrefectClient) -> None:
    template: dict[str, Any] = DockerWorker.get_default_base_job_template()
    await client.create_work_pool(
        WorkPoolCreate(name=LOCAL_POOL, type="docker", base_job_template=template), overwrite=True
    )


def _docker_job_variables(image: str) -> dict[str, Any]:
    return {
        "image": image,
        # Built here, never pulled: the image only exists in the local engine.
        "image_pull_policy": "Never",
        # The API listens on 127.0.0.1 of the host; the container shares the host's network to reach it.
        "network_mode": "host",
        "auto_remove": True,
        "stream_output": True,
        "env": {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"},
    }


async def _wait_for_final_state(client: PrefectClient, flow_run_id: UUID, timeout: float) -> State:
    deadline = time.monotonic() + timeout
    while True:
        flow_run = await client.read_flow_run(flow_run_id)
        if flow_run.state is not None and flow_run.state.is_final():
            return flow_run.state
        if time.monotonic() > deadline:
            state = flow_run.state.name if flow_run.state else "unknown"
            raise LocalRunError(f"flow run {flow_run_id} is still {state} after {timeout:.0f} s")
        await asyncio.sleep(1.0)
