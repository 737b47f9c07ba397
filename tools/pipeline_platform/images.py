"""Pipeline images: built (and pushed, with a registry) by Pants, tagged with the short git sha."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline_platform import docker_cli
from pipeline_platform.image_refs import ImageResult, ImageStatus, planned_reference
from pipeline_platform.pants import PantsError, run_pants
from pipeline_platform.repo import image_address
from pipelines.common.naming import PipelineName

IMAGE_TAG_ENV = "IMAGE_TAG"  # read by pants.toml's [docker].build_args
SEED_ATTEMPTS = 2
SEED_RETRY_DELAY_S = 2.0
# Carried by the last image of the base's and deps images' build stages (the root Dockerfile,
# build-support/macros), valued `base-<tag>` and `deps-<tag>`: what those stages leave on the engine (the pex
# copied in, the layer tree) is needed by no later step.
BUILD_STAGE_LABEL = "org.rio-pipelines.build-stage"
BASE_STAGE, DEPS_STAGE = "base", "deps"
BUILD_STAGES = (BASE_STAGE, DEPS_STAGE)


def build_images(
    repo: Path,
    pipelines: Sequence[PipelineName],
    tag: str,
    registry_address: str | None,
    options: Sequence[str] = (),
) -> list[ImageResult]:
    """Builds (and with a registry, pushes) the images of ``pipelines`` in one Pants run.

    ``options`` are extra Pants options (the published base: ``BaseImage.build_options``). If that run
    fails, each image is retried alone so that one broken image does not block the others.
    """
    if not pipelines:
        return []
    try:
        _pants_build(repo, pipelines, tag, registry_address, options)
    except PantsError as error:
        if len(pipelines) == 1:
            return [_failed(pipelines[0], tag, registry_address, error)]
        return [_build_one(repo, pipeline, tag, registry_address, options) for pipeline in pipelines]
    return [_result(repo, pipeline, tag, registry_address) for pipeline in pipelines]


def _build_one(
    repo: Path, pipeline: PipelineName, tag: str, registry_address: str | None, options: Sequence[str]
) -> ImageResult:
    try:
        _pants_build(repo, [pipeline], tag, registry_address, options)
    except PantsError as error:
        return _failed(pipeline, tag, registry_address, error)
    return _result(repo, pipeline, tag, registry_address)


def _failed(pipeline: PipelineName, tag: str, registry_address: str | None, error: PantsError) -> ImageResult:
    reference = planned_reference(pipeline, tag, registry_address)
    return ImageResult(pipeline, reference, ImageStatus.FAILED, str(error), build_failure_cause(str(error)))


# Lines of a failed `docker build` (as Pants reports it) that say why, most telling first.
_CAUSES = (
    r"returned a non-zero code",
    r"pull access denied|denied:|unauthorized",
    r"manifest unknown|manifest for .* not found|not found: manifest",
    r"no such host|connection refused|i/o timeout|TLS handshake timeout|network is unreachable",
    r"failed to solve|ERROR",
    r"error|failed",
)
_NOISE = re.compile(
    r"legacy builder is deprecated|Install the buildx component|docs\.docker\.com/go/buildx|"
    r"--keep-sandboxes|^stdout:$|^stderr:$|^Engine traceback|^in `\w+` goal$|ProcessExecutionFailure|"
    r"Exception encountered|\./pants .* failed \(exit"
)


def telling_line(text: str, limit: int = 240) -> str:
    """The most telling line of an error output: the last one naming an error, else the last one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    telling = [line for line in lines if re.search(r"error|exception|failed", line, re.IGNORECASE)]
    return (telling or lines or [text])[-1][:limit]


def build_failure_cause(output: str, limit: int = 300) -> str:
    """The telling line of a failed image build: the failing RUN step, the refused or unreachable pull, ...

    Pants's own lines (``ProcessExecutionFailure: Process 'Building docker image ...' failed``) say only that
    the build failed; the cause is in Docker's output, which Pants prints under them.
    """
    lines = [line.strip() for line in output.splitlines()]
    lines = [line for line in lines if line and not _NOISE.search(line)]
    for pattern in _CAUSES:
        matching = [line for line in lines if re.search(pattern, line, re.IGNORECASE)]
        if matching:
            cause = matching[-1]
            break
    else:
        cause = lines[-1] if lines else output.strip()
    if re.search(_CAUSES[1] + "|" + _CAUSES[2] + "|" + _CAUSES[3], cause, re.IGNORECASE):
        cause += f" (OS image {os.environ.get('OS_IMAGE') or 'default'}: see docs/imagem-base.md)"
    return cause[:limit]


@dataclass(frozen=True)
class Seeded:
    pulled: tuple[str, ...]
    failed: dict[str, str]  # reference -> the engine's last line on why it could not be pulled


def seed_layers(references: Sequence[str], docker_host: str | None = None) -> Seeded:
    """Pulls the images a deploy replaces, so that the engine knows which layers the registry already has.

    Layers are reproducible (build-support/docker/image_layers.py): a rebuilt base or unchanged dependencies
    give the registry's own digests. But an engine that never pulled or pushed them (a new CI runner) does
    not know that, and uploads them again. After the pull, `docker push` finds them there and sends only
    what is new. A pull that fails for another reason than a missing image is tried once more; what still
    cannot be pulled (a first deploy, a deleted tag) is skipped and reported with the engine's reason.
    """
    pulled: list[str] = []
    failed: dict[str, str] = {}
    for reference in dict.fromkeys(references):
        for attempt in range(SEED_ATTEMPTS):
            why = docker_cli.pull(reference, docker_host)
            if why is None:
                pulled.append(reference)
                failed.pop(reference, None)
                break
            failed[reference] = why
            if re.search(_CAUSES[2], why, re.IGNORECASE) or attempt + 1 == SEED_ATTEMPTS:
                break
            time.sleep(SEED_RETRY_DELAY_S)
    return Seeded(tuple(pulled), failed)


def forget_seeded(seed: Seeded, docker_host: str | None = None) -> str | None:
    """Deletes the images ``seed`` pulled once the layers they share with the build are held by other tags
    (the base, the deps images): the engine keeps which layers the registry has (its distribution metadata)
    after the images are gone, and a replaced base's layers would otherwise sit on the disk all deploy long.
    None, else why not."""
    return docker_cli.remove_images(list(seed.pulled), docker_host)


def drop_build_stages(tag: str, stages: Sequence[str] = BUILD_STAGES, docker_host: str | None = None) -> str:
    """Deletes what the build stages ``stages`` (of BUILD_STAGES) left on the engine when built with ``tag``
    (their untagged last images, and the untagged parents no other image uses: steps another build shares
    stay); the engine's lines on the space reclaimed."""
    return "; ".join(
        f"{stage}: {docker_cli.prune_labelled(f'{BUILD_STAGE_LABEL}={stage}-{tag}', docker_host)}"
        for stage in stages
    )


def os_image_problem(repo: Path) -> str | None:
    """None when the root Dockerfile has an OS image to build on (./pants exports OS_IMAGE), else why not.

    ./pants resolves OS_IMAGE before goals that build images (build-support/docker/os-image.sh); the
    deploy tool asks the same script, so that it stops before building anything, with its message.
    """
    if os.environ.get("OS_IMAGE"):
        return None
    script = repo / "build-support" / "docker" / "os-image.sh"
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    if result.returncode == 0 and result.stdout.strip():
        os.environ["OS_IMAGE"] = result.stdout.strip().splitlines()[-1]
        return None
    return " ".join(result.stderr.split()) or f"{script} failed (exit {result.returncode})"


def _pants_build(
    repo: Path,
    pipelines: Sequence[PipelineName],
    tag: str,
    registry_address: str | None,
    extra_options: Sequence[str] = (),
) -> None:
    for pipeline in pipelines:
        _docker_info_path(repo, pipeline).unlink(missing_ok=True)
    options = list(extra_options)
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
