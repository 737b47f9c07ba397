"""What pipeline images are called and what became of them: the tag (short git sha), the registry, the
reference a deployment runs, and each image's status in a deploy. No Docker, no Pants: the plan, the
registration and the drift check name images without building them."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline_platform.repo import has_uncommitted_changes, short_sha
from pipelines.common.naming import PipelineName

REGISTRY_ENV = "PIPELINES_IMAGE_REGISTRY"


class ImageTagError(ValueError):
    """No usable image tag (the tool refuses to build or register an image without one)."""


class ImageStatus(enum.Enum):
    BUILT = "built (kept local: no registry configured)"
    PUSHED = "built and pushed"
    NOT_BUILT = "NOT BUILT (no Docker engine): registered with the tag it would have"
    PLANNED = "would be built (dry run)"
    KEPT = "kept (prefect.yaml change only)"
    FAILED = "build failed"

    @property
    def failed(self) -> bool:
        return self is ImageStatus.FAILED


@dataclass(frozen=True)
class ImageResult:
    pipeline: PipelineName
    reference: str
    status: ImageStatus
    detail: str = ""
    # For a failed build: the line of the output that says why (for the summary table).
    cause: str = ""


def image_tag(repo: Path) -> str:
    """The short git sha of HEAD, with ``-dirty`` when tracked files have uncommitted changes."""
    tag = short_sha(repo).strip()
    if not tag:
        raise ImageTagError("git gave an empty short sha for HEAD: refusing to tag images with an empty tag")
    return f"{tag}-dirty" if has_uncommitted_changes(repo) else tag


def registry() -> str | None:
    """The registry images are pushed to (``$PIPELINES_IMAGE_REGISTRY``), or None: images stay local."""
    return os.environ.get(REGISTRY_ENV, "").strip().rstrip("/") or None


def image_repository(pipeline: PipelineName, registry_address: str | None) -> str:
    """The image's name without its tag: ``[<registry>/]<image name>``."""
    prefix = f"{registry_address}/" if registry_address else ""
    return f"{prefix}{pipeline.image_name}"


def planned_reference(pipeline: PipelineName, tag: str, registry_address: str | None) -> str:
    if not tag:
        raise ImageTagError(f"refusing an empty image tag for {pipeline.image_name}")
    return f"{image_repository(pipeline, registry_address)}:{tag}"


def split_reference(reference: str) -> tuple[str, str | None]:
    """``(name, tag)`` of an image reference; the tag is None when there is none (a registry port is no tag).

    A digest reference (``name@sha256:...``) gives the digest as its tag.
    """
    if "@" in reference:
        name, _, digest = reference.partition("@")
        return split_reference(name)[0], digest
    name, colon, tag = reference.rpartition(":")
    if not colon or "/" in tag:
        return reference, None
    return name, tag
