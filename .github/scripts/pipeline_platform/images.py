"""Pipeline images: built (and pushed, with a registry) by Pants, tagged with the short git sha."""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from prefect.utilities.dockerutils import docker_client

from pipeline_platform.affected import image_address
from pipeline_platform.pants import PantsError, run_pants
from pipeline_platform.repo import has_uncommitted_changes, short_sha
from pipelines.common.naming import PipelineName

REGISTRY_ENV = "PIPELINES_IMAGE_REGISTRY"
IMAGE_TAG_ENV = "IMAGE_TAG"  # read by pants.toml's [docker].build_args


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


def image_tag(repo: Path) -> str:
    """The short git sha of HEAD, with ``-dirty`` when tracked files have uncommitted changes."""
    tag = short_sha(repo).strip()
    if not tag:
        raise ImageTagError("git gave an empty short sha for HEAD: refusing to tag images with an empty tag")
    return f"{tag}-dirty" if has_uncommitted_changes(repo) else tag


def registry() -> str | None:
    """The registry images are pushed to (``$PIPELINES_IMAGE_REGISTRY``), or None: images stay local."""
    return os.environ.get(REGISTRY_ENV, "").strip().rstrip("/") or None


def planned_reference(pipeline: PipelineName, tag: str, registry_address: str | None) -> str:
    if not tag:
        raise ImageTagError(f"refusing an empty image tag for {pipeline.image_name}")
    prefix = f"{registry_address}/" if registry_address else ""
    return f"{prefix}{pipeline.image_name}:{tag}"


def docker_unavailable_reason() -> str | None:
    """None when a Docker engine answers (``DOCKER_HOST`` or the default socket), else why not."""
    try:
        with docker_client() as client:
            client.ping()
    except Exception as error:  # any failure to reach the engine means "no engine" here
        cause = error.__cause__ or error
        return f"no Docker engine reachable ({type(cause).__name__}: {str(cause)[:160]})"
    return None


def build_images(
    repo: Path, pipelines: Sequence[PipelineName], tag: str, registry_address: str | None
) -> list[ImageResult]:
    """Builds (and with a registry, pushes) the images of ``pipelines`` in one Pants run.

    If that run fails, each image is retried alone so that one broken image does not block the others.
    """
    if not pipelines:
        return []
    try:
        _pants_build(repo, pipelines, tag, registry_address)
    except PantsError as error:
        if len(pipelines) == 1:
            return [_failed(pipelines[0], tag, registry_address, error)]
        return [_build_one(repo, pipeline, tag, registry_address) for pipeline in pipelines]
    return [_result(repo, pipeline, tag, registry_address) for pipeline in pipelines]


def _build_one(repo: Path, pipeline: PipelineName, tag: str, registry_address: str | None) -> ImageResult:
    try:
        _pants_build(repo, [pipeline], tag, registry_address)
    except PantsError as error:
        return _failed(pipeline, tag, registry_address, error)
    return _result(repo, pipeline, tag, registry_address)


def _failed(pipeline: PipelineName, tag: str, registry_address: str | None, error: PantsError) -> ImageResult:
    reference = planned_reference(pipeline, tag, registry_address)
    return ImageResult(pipeline, reference, ImageStatus.FAILED, str(error))


def _pants_build(
    repo: Path, pipelines: Sequence[PipelineName], tag: str, registry_address: str | None
) -> None:
    for pipeline in pipelines:
        _docker_info_path(repo, pipeline).unlink(missing_ok=True)
    options: list[str] = []
    # `package` writes the image metadata to dist/; `publish` (same run, same build) pushes it.
    goals = ["package"]
    if registry_address:
        # Pants reads dict options as Python literals (True, not true).
        registries = {"pipelines": {"address": registry_address, "default": True}}
        options.append(f"--docker-registries={registries!r}")
        goals.append("publish")
    run_pants(
        repo,
        *options,
        *goals,
        *(image_address(pipeline) for pipeline in pipelines),
        env={IMAGE_TAG_ENV: tag},
    )


def _result(repo: Path, pipeline: PipelineName, tag: str, registry_address: str | None) -> ImageResult:
    expected = planned_reference(pipeline, tag, registry_address)
    info_path = _docker_info_path(repo, pipeline)
    if not info_path.is_file():
        return ImageResult(pipeline, expected, ImageStatus.FAILED, f"Pants wrote no {info_path}")
    info = json.loads(info_path.read_text())
    names = [tag_info["name"] for entry in info.get("registries", []) for tag_info in entry.get("tags", [])]
    if expected not in names:
        detail = f"Pants built {', '.join(names) or 'no tag'}, expected {expected}"
        return ImageResult(pipeline, expected, ImageStatus.FAILED, detail)
    status = ImageStatus.PUSHED if registry_address else ImageStatus.BUILT
    return ImageResult(pipeline, expected, status, f"image id {info.get('image_id', '?')}")


def _docker_info_path(repo: Path, pipeline: PipelineName) -> Path:
    """Where ``./pants package`` writes the image's metadata (the target's default output path)."""
    spec_path, _, name = image_address(pipeline).partition(":")
    return repo / "dist" / spec_path.replace("/", ".") / f"{name}.docker-info.json"
