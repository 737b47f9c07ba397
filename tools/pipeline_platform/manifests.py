"""The Kubernetes jobs of the deployments: rendered as the worker renders them (no cluster needed; with no
Prefect server either, for the conventions lint), and validated offline, strictly, against the schemas
bundled in kubernetes-validate.

Strict mode rejects unknown fields (the API server would drop them with a warning, so a typo or a field put
in the wrong object silently does nothing), besides wrong types and missing required fields.
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import kubernetes_validate
from kubernetes_validate.utils import all_versions
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import Flow, FlowRun, WorkPool
from prefect.client.schemas.responses import DeploymentResponse
from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

from pipeline_platform.pools import POOL_TYPE
from pipeline_platform.prefect_internals import offline_client

# The cluster versions the jobs must be valid for (kubernetes-validate 1.37 bundles 1.25 to 1.37).
KUBERNETES_VERSIONS = ("1.28", "1.29", "1.30", "1.31")


@dataclass(frozen=True)
class KubernetesJob:
    """What a Kubernetes worker submits: the Job manifest, in the namespace it is created in."""

    namespace: str
    manifest: dict[str, Any]


@dataclass(frozen=True)
class ManifestError:
    """Why a manifest is not valid for one Kubernetes version; ``path``: where in the manifest (None when
    the reason is not in the manifest)."""

    version: str
    path: tuple[str | int, ...] | None
    message: str

    def __str__(self) -> str:
        if self.path is None:
            return f"Kubernetes {self.version}: {self.message}"
        return f"Kubernetes {self.version}: {self.where}: {self.message}"

    @property
    def where(self) -> str:
        return ".".join(str(part) for part in self.path or ()) or "(top level)"


async def render_job(
    template: Mapping[str, Any], job_variables: Mapping[str, Any], client: PrefectClient | None = None
) -> KubernetesJob:
    """The job a Kubernetes worker would build from these job variables, before its per-run additions.

    Rendered by prefect-kubernetes's own ``KubernetesWorkerJobConfiguration`` (defaults merged, placeholders
    applied, and the worker's own check of the manifest, which rejects a template the worker cannot run);
    no cluster is needed. Without ``client``, no Prefect server either (a Prefect block or variable
    referenced by the template or the job variables then raises ``OfflineClientError``).
    """
    configuration = await _configuration(template, job_variables, client)
    return KubernetesJob(str(configuration.namespace), dict(configuration.job_manifest))


def render_submitted_job(
    template: Mapping[str, Any],
    job_variables: Mapping[str, Any],
    *,
    pool: str,
    flow_name: str,
    deployment_name: str,
) -> KubernetesJob:
    """The job a Kubernetes worker would submit for a flow run of this deployment, with no Prefect server.

    What the worker's ``resolve_for_flow_run`` does (``render_flow_run_job``, from a server), for a sample
    flow run: the pool's template with the job variables, then ``prepare_for_flow_run`` (environment,
    labels, command, name); only the run's own values (ids, names) are made up.
    """
    flow = Flow(name=flow_name, labels={})
    deployment = DeploymentResponse(
        name=deployment_name,
        flow_id=flow.id,
        work_pool_name=pool,
        job_variables=dict(job_variables),
        labels={},
    )
    flow_run = FlowRun(flow_id=flow.id, deployment_id=deployment.id, name="sample-flow-run")
    configuration = asyncio.run(_configuration(template, job_variables, None))
    configuration.prepare_for_flow_run(
        flow_run=flow_run,
        deployment=deployment,
        flow=flow,
        work_pool=WorkPool(
            name=pool, type=POOL_TYPE, base_job_template=dict(template), default_queue_id=uuid.uuid4()
        ),
        worker_name="offline-render",
    )
    return KubernetesJob(str(configuration.namespace), dict(configuration.job_manifest))


async def _configuration(
    template: Mapping[str, Any], job_variables: Mapping[str, Any], client: PrefectClient | None
) -> KubernetesWorkerJobConfiguration:
    return await KubernetesWorkerJobConfiguration.from_template_and_values(
        copy.deepcopy(dict(template)),
        copy.deepcopy(dict(job_variables)),
        client=client if client is not None else offline_client(),
    )


async def render_flow_run_job(client: PrefectClient, flow_run: FlowRun, work_pool: WorkPool) -> KubernetesJob:
    """The job the Kubernetes worker would submit for ``flow_run``, built exactly as the worker builds it.

    ``resolve_for_flow_run`` reads the flow run's deployment and flow, merges their job variables over the
    pool's base job template and runs ``prepare_for_flow_run`` (environment, labels, command, name).
    """
    configuration = await KubernetesWorkerJobConfiguration.resolve_for_flow_run(
        flow_run, client=client, work_pool=work_pool, worker_name="manifest-check"
    )
    return KubernetesJob(str(configuration.namespace), dict(configuration.job_manifest))


def bundled_versions() -> list[str]:
    """The Kubernetes versions (major.minor) whose schemas the installed kubernetes-validate ships."""
    return sorted({".".join(version.split(".")[:2]) for version in all_versions()}, key=_version_key)


def manifest_problems(
    manifest: Mapping[str, Any], versions: Iterable[str] = KUBERNETES_VERSIONS
) -> list[str]:
    """One line per version the manifest is not valid for (strict mode); empty when valid for all."""
    return [str(error) for error in manifest_errors(manifest, versions)]


def manifest_errors(
    manifest: Mapping[str, Any], versions: Iterable[str] = KUBERNETES_VERSIONS
) -> list[ManifestError]:
    """The first error of each version the manifest is not valid for (strict mode); empty when valid."""
    errors: list[ManifestError] = []
    bundled = set(bundled_versions())
    for version in versions:
        if version not in bundled:
            # kubernetes-validate would silently fall back to an older schema: refuse instead.
            errors.append(ManifestError(version, None, "no schema bundled in kubernetes-validate"))
            continue
        try:
            kubernetes_validate.validate(dict(manifest), version, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(ManifestError(version, tuple(error.path), str(error.message)))
    return errors


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
