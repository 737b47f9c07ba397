"""What this repository requires of every prefect.yaml beyond Prefect: the pull step into the image's sources,
the image tag left to the deploy tool, and the keys it does not use."""

from __future__ import annotations

from typing import Any

from prefect.utilities.templating import find_placeholders

from pipelines.common.naming import PipelineName

IMAGE_TAG_PLACEHOLDER = "$IMAGE_TAG"
IMAGE_WORKDIR = "/opt/prefect"
PULL_STEPS: list[dict[str, Any]] = [
    {"prefect.deployments.steps.set_working_directory": {"directory": IMAGE_WORKDIR}}
]
# Keys of a deployment that this repository does not use, and why (`schedule:` has its own message).
UNSUPPORTED_KEYS = {
    "build": "images are built by Pants",
    "push": "images are pushed by the deploy tool",
    "pull": "the top-level `pull:` step applies to every deployment",
    "triggers": "the deploy tool does not register triggers",
    "sla": "the deploy tool does not register SLAs",
    "flow_name": "the flow's name comes from the entrypoint's @flow",
}


def render_image_tag(value: Any, image_tag: str) -> Any:
    """``value`` with every ``{{ $IMAGE_TAG }}`` replaced by ``image_tag`` (recursively)."""
    if isinstance(value, str):
        for placeholder in find_placeholders(value):
            if placeholder.name == IMAGE_TAG_PLACEHOLDER:
                value = value.replace(placeholder.full_match, image_tag)
        return value
    if isinstance(value, dict):
        return {key: render_image_tag(item, image_tag) for key, item in value.items()}
    if isinstance(value, list):
        return [render_image_tag(item, image_tag) for item in value]
    return value


def expected_image(pipeline: PipelineName | None) -> str:
    """The ``image`` job variable every deployment of ``pipeline`` declares."""
    name = pipeline.image_name if pipeline is not None else "<image name>"
    return f"{name}:{{{{ {IMAGE_TAG_PLACEHOLDER} }}}}"
