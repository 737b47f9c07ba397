"""Each pipeline's deps image (``:deps-image``: //:base plus its requirements' layer), published once per
set of inputs, then reused.

A code change leaves a pipeline's requirements as they were, but an engine without a build cache (a new CI
runner) would still rebuild its deps layer: a venv of ~400 MB made from the deps pex, the longest step of a
fresh deploy. Its registry tag names its inputs (``inputs-<hash>``): the bytes of the pipeline's
``:deps-pex`` (what Pants resolved for it), the base's inputs key and the recipe (the BUILD macro). A deploy
that finds the tag builds the pipeline's image on it, by digest, and builds no deps stage; one that does not
builds ``:deps-image`` (reproducible) and publishes the tag, so that the next deploy, on whichever runner,
does not build it again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline_platform.base_image import publish, repo_digest
from pipeline_platform.images import pull
from pipeline_platform.pants import run_pants
from pipelines.common.naming import PipelineName

# build-support/macros/pipeline.py: the recipe, and the per-pipeline `ARG DEPS_IMAGE_<DIR NAME>=:deps-image`
# of the standard image (one arg per pipeline: Pants 2.17's build args are global to a run).
RECIPE = "build-support/macros/pipeline.py"
BUILD_ARG_PREFIX = "DEPS_IMAGE_"
INPUTS_TAG_PREFIX = "inputs-"


@dataclass(frozen=True)
class DepsImage:
    """A pipeline's deps image for one deploy: ``published`` (``name@sha256:...``) or None (build it)."""

    pipeline: PipelineName
    inputs_reference: str  # <registry>/<image name>-deps:inputs-<hash>
    published: str | None = None
    why_not: str = ""


def build_arg(pipeline: PipelineName) -> str:
    return BUILD_ARG_PREFIX + pipeline.dir_name.upper()


def pex_address(pipeline: PipelineName) -> str:
    return f"pipelines/{pipeline.dir_name}:deps-pex"


def built_reference(pipeline: PipelineName, registry: str, tag: str) -> str:
    """Where ``./pants package`` puts a built ``:deps-image`` (tagged like the pipeline image; not pushed)."""
    return f"{registry}/{pipeline.image_name}-deps:{tag}"


def inputs_reference(pipeline: PipelineName, registry: str, key: str) -> str:
    return f"{registry}/{pipeline.image_name}-deps:{INPUTS_TAG_PREFIX}{key}"


def pex_path(repo: Path, pipeline: PipelineName) -> Path:
    """The packed deps pex ``./pants package`` writes (a directory: bootstrap, wheels, PEX-INFO)."""
    return repo / "dist" / f"pipelines.{pipeline.dir_name}" / "deps-pex.pex"


def inputs_hash(pex: Path, base_key: str, recipe: bytes) -> str:
    """A digest of the deps pex's files (paths and contents), the base's inputs key and the recipe."""
    digest = hashlib.sha256(f"base\0{base_key}\0".encode())
    digest.update(hashlib.sha256(recipe).digest())
    files = sorted(path for path in pex.rglob("*") if path.is_file()) if pex.is_dir() else [pex]
    for path in files:
        digest.update(f"{path.relative_to(pex).as_posix() if pex.is_dir() else pex.name}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


def find_published(
    repo: Path,
    registry: str,
    pipelines: Sequence[PipelineName],
    base_key: str,
    docker_host: str | None = None,
) -> list[DepsImage]:
    """For each pipeline, its published deps image for this checkout, pulled (only what the engine lacks),
    or why none. Packages the deps pexes first (the image build reuses them)."""
    if not pipelines:
        return []
    run_pants(repo, "package", *(pex_address(pipeline) for pipeline in pipelines))
    recipe = (repo / RECIPE).read_bytes()
    found: list[DepsImage] = []
    for pipeline in pipelines:
        key = inputs_hash(pex_path(repo, pipeline), base_key, recipe)
        reference = inputs_reference(pipeline, registry, key)
        why_not = pull(reference, docker_host)
        digest = None if why_not else repo_digest(reference, docker_host)
        if why_not is None and digest is None:
            why_not = "the engine reports no registry digest for it"
        found.append(DepsImage(pipeline, reference, digest, why_not or ""))
    return found


def build_options(images: Sequence[DepsImage]) -> list[str]:
    """Pants options for the image build: each published deps image instead of building ``:deps-image``.

    The build arg replaces the address in the standard image's ``FROM $DEPS_IMAGE_<DIR NAME>``: Pants then
    infers no dependency on ``:deps-image`` and builds neither it nor its deps stage.
    """
    args = [f"{build_arg(image.pipeline)}={image.published}" for image in images if image.published]
    return [f"--docker-build-args=+{args!r}"] if args else []


def publish_built(image: DepsImage, registry: str, tag: str, docker_host: str | None = None) -> str | None:
    """Tags the ``:deps-image`` just built as its inputs reference and pushes it; its digest, or None.

    Its layers went up with the pipeline image, so this uploads a manifest and a config.
    """
    return publish(built_reference(image.pipeline, registry, tag), image.inputs_reference, docker_host)
