"""``--run DEPLOYMENT`` in embedded mode: one real flow run in the deployment's image, on the local Docker.

The registered deployments target Kubernetes pools; locally the same image runs through a Docker-type work
pool (``local-docker``, prefect-docker's default template) and an in-process Docker worker polling once. The
run is made from a twin deployment ``<name>--local-docker`` without schedules, so the registered one is
untouched.
The container uses the host network: the API URL on 127.0.0.1 is the same inside and outside it.

What a cluster's job gets from outside the image stands in from the tool's environment: the lake
(``PIPELINES_LAKE_URI`` and the storage endpoint override of tests) and the variables of the job's secret,
named ``<SECRET_PATH>__<KEY>`` (the Kubernetes secret of ``secretName`` is not here). Nothing else: a run
with no source configured fails as a deployed run does.

A busy machine's just-started server may answer 503 or reset a connection. Every call of this module to the
API goes through the deploy's retry policy (retries.py). The in-process worker's client does not retry (the
session's settings): when one of its calls fails while it submits the run, it marks the run Crashed with
"Failed to submit", and the same flow run is scheduled again and submitted anew, a few times. A run that
never got submitted, or whose deployment the server kept refusing, raises :class:`RunNotSubmitted` with the
cause, which is not the flow's failure.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
from prefect.client.schemas.objects import FlowRun, State
from prefect.states import Scheduled
from prefect_docker.worker import DockerWorker

from pipeline_platform.docker_cli import image_exists
from pipeline_platform.retries import RetryPolicy, is_transient, retried
from pipelines.common.settings import GCS_ENDPOINT_ENV, LAKE_URI_ENV

LOCAL_POOL = "local-docker"
TWIN_SUFFIX = "--local-docker"
RUN_TIMEOUT_SECONDS = 900.0
T = TypeVar("T")
SUBMIT_ATTEMPTS = 4
RESUBMIT_SECONDS = 2.0
# Prefect's worker marks a run it could not hand to the infrastructure with this message.
SUBMIT_FAILED = "Failed to submit flow run to infrastructure"
FORWARDED_ENV = (LAKE_URI_ENV, GCS_ENDPOINT_ENV)
_SECRET_VARIABLE = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]__[A-Z0-9][A-Z0-9_]*$")


class LocalRunError(RuntimeError):
    pass


class RunNotSubmitted(LocalRunError):
    """The run never reached Docker: the local server or worker kept failing, not the flow."""


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
    policy: RetryPolicy | None = None,
) -> LocalRunResult:
    api = _Api(client, policy or RetryPolicy())
    try:
        registered = await api.call(lambda: _find_deployment(client, deployment_name))
        image = (registered.job_variables or {}).get("image")
        if not isinstance(image, str) or not image_exists(image):
            raise LocalRunError(
                f"image {image!r} of {deployment_name} is not in the local Docker: deploy it with Docker "
                "running first (the tool builds it)"
            )
        await api.call(lambda: _ensure_docker_pool(client))
        twin_id = await api.call(lambda: _create_twin(client, registered, image))
        flow_run = await api.call(lambda: client.create_flow_run_from_deployment(twin_id))
    except Exception as error:
        if not is_transient(error):
            raise
        raise RunNotSubmitted(
            f"the run of {deployment_name} could not be created (the flow never ran): {_describe(error)}"
        ) from error
    printer(
        f"Flow run {flow_run.name!r} ({flow_run.id}) created; starting a Docker worker on {LOCAL_POOL!r}..."
    )
    await _submit(api, flow_run.id, printer)
    state = await _wait_for_final_state(api, flow_run.id, timeout)
    return LocalRunResult(registered.name, image, flow_run.id, flow_run.name, state)


@dataclass(frozen=True)
class _Api:
    """The session's client, each call retried by the deploy's policy."""

    client: PrefectClient
    policy: RetryPolicy

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        return await retried(self.policy, operation)

    async def read_flow_run(self, flow_run_id: UUID) -> FlowRun:
        return await self.call(lambda: self.client.read_flow_run(flow_run_id))


async def _create_twin(client: PrefectClient, registered: Any, image: str) -> UUID:
    return await client.create_deployment(
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


async def _submit(
    api: _Api, flow_run_id: UUID, printer: Callable[..., None], attempts: int = SUBMIT_ATTEMPTS
) -> None:
    """One worker pass per attempt until the run got past submission; :class:`RunNotSubmitted` otherwise."""
    cause = "the worker did not pick the run up"
    for attempt in range(1, attempts + 1):
        try:
            worker = DockerWorker(work_pool_name=LOCAL_POOL, limit=1, create_pool_if_not_found=False)
            await worker.start(run_once=True, printer=printer)
            state = (await api.read_flow_run(flow_run_id)).state
        except Exception as error:
            if not is_transient(error):
                raise
            cause = _describe(error)
        else:
            not_submitted = state is None or state.is_scheduled()
            if state is not None and state.is_crashed() and (state.message or "").startswith(SUBMIT_FAILED):
                not_submitted = True
                cause = state.message or SUBMIT_FAILED
            if not not_submitted:
                return
        if attempt == attempts:
            break
        printer(f"Flow run {flow_run_id} not submitted (attempt {attempt} of {attempts}): {cause}; retrying")
        await asyncio.sleep(RESUBMIT_SECONDS * attempt)
        try:
            await api.call(lambda: api.client.set_flow_run_state(flow_run_id, Scheduled(), force=True))
        except Exception as error:
            if not is_transient(error):
                raise
            cause = _describe(error)
            break
    raise RunNotSubmitted(
        f"flow run {flow_run_id} could not be submitted to the local Docker pool after {attempts} attempt(s) "
        f"(the flow never ran): {cause}"
    )


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


async def _find_deployment(client: PrefectClient, name: str) -> Any:
    found = await client.read_deployments(
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name]))
    )
    if not found:
        raise LocalRunError(f"no deployment named {name!r} on the server (deploy it first)")
    return found[0]


async def _ensure_docker_pool(client: PrefectClient) -> None:
    template: dict[str, Any] = DockerWorker.get_default_base_job_template()
    await client.create_work_pool(
        WorkPoolCreate(name=LOCAL_POOL, type="docker", base_job_template=template), overwrite=True
    )


def _docker_job_variables(image: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "image": image,
        # Built here, never pulled: the image only exists in the local engine.
        "image_pull_policy": "Never",
        # The API listens on 127.0.0.1 of the host; the container shares the host's network to reach it.
        "network_mode": "host",
        "auto_remove": True,
        "stream_output": True,
        "env": {
            **forwarded_environment(os.environ if environ is None else environ),
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        },
    }


def forwarded_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The lake settings and the job secret's variables (``<SECRET_PATH>__<KEY>``) of ``environ``."""
    return {
        name: value
        for name, value in sorted(environ.items())
        if value and (name in FORWARDED_ENV or _SECRET_VARIABLE.match(name))
    }


async def _wait_for_final_state(api: _Api, flow_run_id: UUID, timeout: float) -> State:
    deadline = time.monotonic() + timeout
    while True:
        try:
            flow_run = await api.read_flow_run(flow_run_id)
        except Exception as error:
            if not is_transient(error):
                raise
            raise LocalRunError(
                f"lost track of flow run {flow_run_id}: the server kept failing ({_describe(error)}); "
                "its state is on the server's UI"
            ) from error
        if flow_run.state is not None and flow_run.state.is_final():
            return flow_run.state
        if time.monotonic() > deadline:
            state = flow_run.state.name if flow_run.state else "unknown"
            raise LocalRunError(f"flow run {flow_run_id} is still {state} after {timeout:.0f} s")
        await asyncio.sleep(1.0)
