"""The Kubernetes jobs of the deployments, for the tests: rendered as the worker renders them (no cluster
needed), and validated offline, strictly, against the schemas bundled in kubernetes-validate.

Strict mode rejects unknown fields (the API server would drop them with a warning, so a typo or a field put
in the wrong object silently does nothing), besides wrong types and missing required fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import kubernetes_validate
from kubernetes_validate.utils import all_versions
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun, WorkPool
from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

# The cluster versions the jobs must be valid for (kubernetes-validate 1.37 bundles 1.25 to 1.37).
KUBERNETES_VERSIONS = ("1.28", "1.29", "1.30", "1.31")


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
    configuration = await KubernetesWorkerJobConfiguration.from_template_and_values(
        dict(template), dict(job_variables), client=client
    )
    return KubernetesJob(str(configuration.namespace), dict(configuration.job_manifest))


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
    problems: list[str] = []
    bundled = set(bundled_versions())
    for version in versions:
        if version not in bundled:
            # kubernetes-validate would silently fall back to an older schema: refuse instead.
            problems.append(f"Kubernetes {version}: no schema bundled in kubernetes-validate")
            continue
        try:
            kubernetes_validate.validate(dict(manifest), version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path) or "(top level)"
            problems.append(f"Kubernetes {version}: {where}: {error.message}")
    return problems


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
