"""Each deployment's Kubernetes Job, as the worker would submit it, checked with no cluster and no Prefect
server: rendered by prefect-kubernetes from the committed base job template of its work pool
(infra/work-pools/<pool>.json) and its job variables (the image tag a sample), it must be valid in strict mode
for every version of KUBERNETES_VERSIONS, read the environment's secret (envFrom) and run the pipeline's
image.

The prefect.yaml validation checks each job variable against the pool's schema; this checks what they make
once placed in the template (a `null` the schema accepts can reach a field Kubernetes types strictly, a
`command` the worker cannot split fails the render).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prefect.utilities.templating import find_placeholders

from pipeline_conventions.problems import Problem
from pipeline_platform.manifests import KubernetesJob, ManifestError, manifest_errors, render_submitted_job
from pipeline_platform.pools import POOLS_DIR, load_pool_templates
from pipeline_platform.repo import DEPLOYMENTS_FILE
from pipeline_platform.spec import DeploymentSpec, PipelineSpec
from pipeline_platform.validator.fields import format_location
from pipeline_platform.validator.messages import shorten
from pipeline_platform.yaml_document import Location, YamlDocument, read_yaml
from pipelines.common.naming import SECRET_NAMES

# Stands for the deploy tool's tag (the short git sha) in `{{ $IMAGE_TAG }}`.
SAMPLE_TAG = "0a1b2c3"


def check_jobs(spec: PipelineSpec) -> list[Problem]:
    """The problems of the Jobs of ``spec``'s deployments (a prefect.yaml that validates cleanly)."""
    path = spec.directory / DEPLOYMENTS_FILE
    document = read_yaml(path)
    root = Path(os.path.abspath(spec.directory)).parent.parent
    templates = load_pool_templates(root)
    problems: list[Problem] = []
    for deployment in spec.deployments:
        where = _JobVariables(str(path), document, _index(document, deployment.name))
        try:
            problems.extend(_check_deployment(where, deployment, templates[deployment.work_pool]))
        except Exception as error:  # a bug here must not hide the other deployments' problems
            problems.append(
                where.problem(
                    f"the conventions check could not check this deployment's Kubernetes Job "
                    f"({type(error).__name__}: {shorten(str(error), 200)}). This is a bug of "
                    "pipeline_conventions/jobs.py: please report it with this file"
                )
            )
    return problems


class _JobVariables:
    """Where a deployment and its job variables are in the prefect.yaml, to report problems there."""

    def __init__(self, path: str, document: YamlDocument, index: int | None) -> None:
        self.path = path
        self.document = document
        self.deployment: Location = ("deployments", index) if index is not None else ()

    def problem(self, reason: str, variable: str | None = None) -> Problem:
        location = self.deployment
        if variable is not None:
            location = (*location, "work_pool", "job_variables", variable)
        where = format_location(location)
        return Problem(self.path, f"{where}: {reason}" if where else reason, self.document.line(location))


def _check_deployment(
    where: _JobVariables, deployment: DeploymentSpec, template: Mapping[str, Any]
) -> list[Problem]:
    pool_file = POOLS_DIR / f"{deployment.work_pool}.json"
    variables = deployment.rendered_job_variables(SAMPLE_TAG)
    try:
        job = _render(deployment, template, variables)
    except Exception as error:  # the worker's own checks, or a value it cannot use
        failed = f"the worker cannot build the Kubernetes Job ({type(error).__name__}: {shorten(str(error))})"
        culprit = _culprit(deployment, template, variables)
        if culprit is not None:
            return [
                where.problem(
                    f"job variable {culprit!r}: {failed}: set a valid value, or leave it out to use the "
                    "pool's default",
                    culprit,
                )
            ]
        return [
            where.problem(
                f"{failed} from {pool_file} and the job variables: fix the template or the job variables"
            )
        ]
    problems = [
        _invalid(where, deployment, template, job, errors)
        for errors in _by_place(manifest_errors(job.manifest)).values()
    ]
    container = _container(job.manifest)
    secrets = [
        source.get("secretRef", {}).get("name") if isinstance(source, dict) else source
        for source in container.get("envFrom") or []
    ]
    secret = SECRET_NAMES[deployment.environment]
    if secrets != [secret]:
        problems.append(
            where.problem(
                f"the Kubernetes Job's container reads its environment from the secrets {secrets} (envFrom), "
                f"not from {secret!r} alone, the {deployment.environment} secret: {pool_file} must put the "
                "secretName job variable, and only it, in the container's envFrom"
            )
        )
    image = f"{deployment.pipeline.image_name}:{SAMPLE_TAG}"
    if container.get("image") != image:
        problems.append(
            where.problem(
                f"the Kubernetes Job runs the image {container.get('image')!r}, not the pipeline's {image!r} "
                f"(with {SAMPLE_TAG!r} as the tag): {pool_file} must put the image job variable in the "
                "container's image",
            )
        )
    return problems


def _render(
    deployment: DeploymentSpec, template: Mapping[str, Any], variables: Mapping[str, Any]
) -> KubernetesJob:
    return render_submitted_job(
        template,
        variables,
        pool=deployment.work_pool,
        flow_name=deployment.flow_name,
        deployment_name=deployment.name,
    )


def _culprit(
    deployment: DeploymentSpec, template: Mapping[str, Any], variables: Mapping[str, Any]
) -> str | None:
    """The job variable without which the Job renders, if there is one."""
    # Both have one valid value, checked by the validator; without an image the worker would name
    # Prefect's own (asking git for Prefect's revision).
    for name in (key for key in variables if key not in ("image", "secretName")):
        try:
            _render(deployment, template, {key: value for key, value in variables.items() if key != name})
        except Exception:  # still failing: not this one alone
            continue
        return name
    return None


def _by_place(errors: list[ManifestError]) -> dict[tuple[str | int, ...] | None, list[ManifestError]]:
    """The same error of several Kubernetes versions, once."""
    grouped: dict[tuple[str | int, ...] | None, list[ManifestError]] = defaultdict(list)
    for error in errors:
        grouped[error.path].append(error)
    return dict(grouped)


def _invalid(
    where: _JobVariables,
    deployment: DeploymentSpec,
    template: Mapping[str, Any],
    job: KubernetesJob,
    errors: list[ManifestError],
) -> Problem:
    """One error of the Job (in one or more Kubernetes versions), reported at the job variable behind it."""
    versions = ", ".join(error.version for error in errors)
    first, path = errors[0], errors[0].path
    if path is None:
        return where.problem(
            f"cannot check the Kubernetes Job for Kubernetes {versions} ({first.message}): "
            "KUBERNETES_VERSIONS (pipeline_platform/manifests.py) must name versions it ships"
        )
    reason = shorten(f"{first.where}: {first.message}")
    invalid = f"the Kubernetes Job invalid for Kubernetes {versions} ({reason})"
    pool_file = POOLS_DIR / f"{deployment.work_pool}.json"
    variables = _variables_at(template, path)
    given = [name for name in variables if name in deployment.job_variables]
    if given:
        null = "; a null job variable reaches the Job as null" if _is_null(job.manifest, path) else ""
        return where.problem(
            f"job variable {given[0]!r} makes {invalid}{null}: set a valid value, or leave it out to use the "
            "pool's default",
            given[0],
        )
    if variables:
        return where.problem(
            f"the default of {variables[0]!r} in {pool_file} makes {invalid}: set job variable "
            f"{variables[0]!r} to a valid value, or fix that default"
        )
    return where.problem(f"{pool_file} makes {invalid}: fix the template's job_manifest")


def _variables_at(template: Mapping[str, Any], path: tuple[str | int, ...]) -> list[str]:
    """The variables the template places at ``path`` of the Job (or at the object holding it)."""
    node: Any = template.get("job_configuration", {}).get("job_manifest", {})
    for part in path:
        if isinstance(node, str):
            break
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_dict or in_list):
            return []
        node = node[part]
    if not isinstance(node, str):
        return []
    return sorted(placeholder.name for placeholder in find_placeholders(node))


def _is_null(manifest: Mapping[str, Any], path: tuple[str | int, ...]) -> bool:
    node: Any = manifest
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return node is None


def _container(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    containers = manifest.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [{}]
    first = containers[0]
    return first if isinstance(first, dict) else {}


def _index(document: YamlDocument, name: str) -> int | None:
    deployments = document.data.get("deployments") if isinstance(document.data, dict) else None
    for index, item in enumerate(deployments if isinstance(deployments, list) else []):
        if isinstance(item, dict) and item.get("name") == name:
            return index
    return None
