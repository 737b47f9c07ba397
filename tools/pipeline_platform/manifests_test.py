"""The platform's fixture pipeline, on each work pool and in each environment, rendered into the Job the real
Kubernetes worker would submit.

The deployments are registered on a real (test) Prefect server by the deploy tool's own code, with the work
pools created from the committed templates; each one gets a flow run, and prefect-kubernetes's
``KubernetesWorkerJobConfiguration.resolve_for_flow_run`` (what the worker calls) builds its Job, which must
be valid for Kubernetes 1.28 to 1.31 in kubernetes-validate's strict mode and carry the hardening. The same
Job rendered offline (what the conventions lint checks on every changed pipeline) must match it.

The repository's own pipelines are not rendered here: the lint renders each one's Jobs, only when it changes.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import PrefectClient

from pipeline_platform import testing
from pipeline_platform.image_refs import ImageResult, ImageStatus, planned_reference
from pipeline_platform.manifests import (
    KUBERNETES_VERSIONS,
    KubernetesJob,
    bundled_versions,
    manifest_problems,
    render_flow_run_job,
    render_job,
    render_submitted_job,
)
from pipeline_platform.pools import POOLS_DIR, apply_pools, load_pool_templates
from pipeline_platform.register import register_deployment, register_pipeline
from pipeline_platform.repo_root import find_repo_root
from pipeline_platform.retries import RetryPolicy
from pipeline_platform.spec import DeploymentSpec, PipelineSpec, load_pipeline
from pipeline_platform.testing import run_with_client as run
from pipelines.common.naming import ENVIRONMENTS, SECRET_NAMES, WORK_POOLS

REPO = find_repo_root()
TAG = "0a1b2c3"
FAST = RetryPolicy(attempts=2, initial_seconds=0.05, max_seconds=0.1)
Case = tuple[str, str]  # (work pool, environment)


def image_user() -> tuple[int, int]:
    """The root Dockerfile's ``USER uid:gid`` (the user every pipeline image runs as)."""
    match = re.search(r"^USER (\d+):(\d+)\s*$", (REPO / "Dockerfile").read_text(), re.MULTILINE)
    assert match, "the root Dockerfile has no numeric USER uid:gid"
    return int(match[1]), int(match[2])


def on_pool(pool: str) -> dict[str, Any]:
    """The fixture pipeline's prefect.yaml with both deployments on ``pool``."""
    return testing.prefect_yaml(
        deployments=[
            testing.deployment(
                environment, work_pool={**testing.deployment(environment)["work_pool"], "name": pool}
            )
            for environment in ENVIRONMENTS
        ]
    )


Jobs = dict[Case, tuple[DeploymentSpec, KubernetesJob]]


@pytest.fixture(scope="module")
def jobs(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Jobs:
    """For each pool: the fixture pipeline on it, registered in both environments, and the Job the worker
    builds for a flow run of each deployment (one pool at a time: the deployments' names are the same)."""
    templates = load_pool_templates(REPO)
    run(lambda client: apply_pools(client, templates))
    found: Jobs = {}
    for pool in WORK_POOLS:
        directory = testing.write_pipeline(
            tmp_path_factory.mktemp(pool), on_pool(pool), templates=REPO / POOLS_DIR
        )
        for environment, job in run(functools.partial(registered_jobs, spec=load_pipeline(directory))):
            found[(pool, environment)] = job
    return found


async def registered_jobs(
    client: PrefectClient, spec: PipelineSpec
) -> list[tuple[str, tuple[DeploymentSpec, KubernetesJob]]]:
    """``spec`` registered in each environment, and the Job of a flow run of each of its deployments."""
    image = ImageResult(spec.pipeline, planned_reference(spec.pipeline, TAG, None), ImageStatus.BUILT)
    found = []
    for environment in ENVIRONMENTS:
        outcome = await register_pipeline(client, spec, environment, image, TAG, FAST)
        assert outcome.ok, outcome
        [registered] = spec.for_environment(environment)
        found.append((environment, (registered, await flow_run_job(client, registered))))
    return found


async def flow_run_job(client: PrefectClient, deployment: DeploymentSpec) -> KubernetesJob:
    """The Job the worker would submit for a new flow run of the registered ``deployment``."""
    registered = await client.read_deployment_by_name(deployment.full_name)
    flow_run = await client.create_flow_run_from_deployment(registered.id)
    work_pool = await client.read_work_pool(deployment.work_pool)
    return await render_flow_run_job(client, flow_run, work_pool)


CASES = [(pool, environment) for pool in WORK_POOLS for environment in ENVIRONMENTS]


def test_the_pinned_kubernetes_validate_ships_a_schema_for_every_checked_version() -> None:
    assert set(KUBERNETES_VERSIONS) <= set(bundled_versions())
    assert manifest_problems({"apiVersion": "batch/v1", "kind": "Job"}, ["1.24"]) == [
        "Kubernetes 1.24: no schema bundled in kubernetes-validate"
    ]


@pytest.mark.parametrize(("pool", "environment"), CASES)
def test_the_worker_builds_a_valid_hardened_job(jobs: Jobs, pool: str, environment: str) -> None:
    deployment, job = jobs[(pool, environment)]
    uid, gid = image_user()

    assert deployment.work_pool == pool
    assert manifest_problems(job.manifest) == [], deployment.name
    job_spec = job.manifest["spec"]
    pod = job_spec["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": gid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == "default"
    assert container["envFrom"] == [{"secretRef": {"name": SECRET_NAMES[environment]}}]
    assert container["image"] == planned_reference(deployment.pipeline, TAG, None)
    assert container["args"] == ["prefect", "flow-run", "execute"]
    assert (job_spec["completions"], job_spec["parallelism"]) == (1, 1)
    assert job.namespace == job.manifest["metadata"]["namespace"] == "prefect"


def without_run_values(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` without what differs from one flow run to another (ids and names in labels, the
    environment and the generated name)."""
    result = copy.deepcopy(manifest)
    del (
        result["metadata"]["labels"],
        result["metadata"]["generateName"],
        result["spec"]["template"]["metadata"],
    )
    for container in result["spec"]["template"]["spec"]["containers"]:
        del container["env"]
    return result


@pytest.mark.parametrize(("pool", "environment"), CASES)
def test_the_offline_render_is_the_job_the_worker_builds(jobs: Jobs, pool: str, environment: str) -> None:
    deployment, job = jobs[(pool, environment)]

    offline = render_submitted_job(
        load_pool_templates(REPO)[pool],
        deployment.rendered_job_variables(TAG, planned_reference(deployment.pipeline, TAG, None)),
        pool=pool,
        flow_name=deployment.flow_name,
        deployment_name=deployment.name,
    )

    assert offline.namespace == job.namespace
    assert without_run_values(offline.manifest) == without_run_values(job.manifest)
    env = {item["name"] for item in offline.manifest["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert {"PREFECT__FLOW_RUN_ID", "PREFECT__FLOW_NAME"} <= env


# --- The checks above can fail: what a real worker or cluster would reject is caught.


def pod_spec(template: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
    return spec


def rendered(template: dict[str, Any], **variables: Any) -> KubernetesJob:
    """The Job of ``template``, rendered with no Prefect server."""
    values = {"image": f"rj-teste--exemplo:{TAG}", "secretName": SECRET_NAMES["prod"], **variables}
    return asyncio.run(render_job(template, values))


@pytest.mark.parametrize("pool", WORK_POOLS)
def test_the_worker_rejects_a_template_without_completions_and_parallelism(pool: str) -> None:
    template = copy.deepcopy(load_pool_templates(REPO)[pool])
    job_spec = template["job_configuration"]["job_manifest"]["spec"]
    del job_spec["completions"], job_spec["parallelism"]

    # prefect-kubernetes's own manifest check (the worker runs it before creating any Job).
    with pytest.raises(ValueError, match="missing required attributes.*completions"):
        rendered(template)


@pytest.mark.parametrize("pool", WORK_POOLS)
def test_completions_in_the_pod_spec_pass_the_worker_but_not_strict_validation(pool: str) -> None:
    template = copy.deepcopy(load_pool_templates(REPO)[pool])
    pod_spec(template).update(completions=1, parallelism=1)

    problems = manifest_problems(rendered(template).manifest)

    assert len(problems) == len(KUBERNETES_VERSIONS)
    assert all("spec.template.spec" in problem and "'completions'" in problem for problem in problems)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda pod: pod["securityContext"].update(runAsNonroot=True), "'runAsNonroot' was unexpected"),
        (lambda pod: pod["containers"][0]["securityContext"].update(privileged="no"), "is not of type"),
        (lambda pod: pod["containers"][0].update(ports=[{"containerPort": "http"}]), "is not of type"),
    ],
    ids=["typo-in-security-context", "wrong-type", "port-name-as-number"],
)
def test_a_template_change_a_cluster_would_reject_fails_strict_validation(
    change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    template = copy.deepcopy(load_pool_templates(REPO)["default-pool"])
    change(pod_spec(template))

    problems = manifest_problems(rendered(template).manifest)

    assert problems and all(expected in problem for problem in problems), problems


def test_the_server_rejects_job_variables_the_pool_does_not_accept(
    jobs: Jobs,
) -> None:
    deployment, _ = jobs[(WORK_POOLS[0], "staging")]
    broken = replace(deployment, job_variables={**deployment.job_variables, "service_account_name": ""})

    with pytest.raises(httpx.HTTPStatusError) as error:
        run(lambda client: register_deployment(client, broken, image=f"x:{TAG}", image_tag=TAG))

    assert error.value.response.status_code == 422
    assert "service_account_name" in error.value.response.text
