"""Images are reproducible and carry the base venv once: the same commit built on the machine's engine and
on a new, empty one gives the same layer digests, and after a code-only change a fresh engine pushes only the
sources layer to a real registry (on 127.0.0.1), which grows by less than 100 kB.

Slow: the base and one pipeline image built on two engines (~6 min on 2 cores), then a code change.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline_platform.docker_cli import unavailable_reason as docker_unavailable_reason
from pipeline_platform.images import (
    BUILD_STAGE_LABEL,
    BUILD_STAGES,
    drop_build_stages,
    forget_seeded,
    seed_layers,
)
from repo_testing.ci import skip_or_fail
from repo_testing.deploy_support import MINIMAL_PIPELINE, add_minimal_pipeline, free_port
from repo_testing.docker_engine import Engine, EngineError, throwaway_engine
from repo_testing.registry import RegistryUnavailable, blobs, local_registry
from repo_testing.workspace import commit_all, copy_repo, pants

PIPELINE = "rj_smtr__gps_brt"
IMAGE = "rj-smtr--gps-brt"
BASE = "rio-pipelines-base"


@pytest.fixture(scope="module")
def fresh_engine() -> Iterator[Engine]:
    if reason := docker_unavailable_reason():
        skip_or_fail(reason)
    os_image = os.environ.get("OS_IMAGE")
    if not os_image:
        skip_or_fail("no OS_IMAGE (./pants exports it when a Docker engine answers)")
    try:
        with throwaway_engine() as engine:
            # Like a new CI runner: an empty engine holding only the OS image.
            engine.load_image_from(str(os_image))
            yield engine
    except EngineError as error:
        skip_or_fail(str(error))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("repo"))


def docker(host: str | None, *args: str) -> str:
    command = ["docker", *(["--host", host] if host else []), *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(command)}: {result.stderr}"
    return result.stdout


def layers(host: str | None, reference: str) -> list[str]:
    return list(json.loads(docker(host, "image", "inspect", "-f", "{{json .RootFS.Layers}}", reference)))


def package(repo: Path, host: str | None, tag: str, *extra: str, pipeline: str = PIPELINE) -> str:
    env = {"IMAGE_TAG": tag, **({"DOCKER_HOST": host} if host else {})}
    result = pants(
        repo, *extra, "package" if not extra else "publish", f"pipelines/{pipeline}:image", env=env
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-4000:]}"
    return result.stdout + result.stderr


def test_two_engines_build_the_same_layers_and_the_image_holds_the_base_venv_once(
    repo: Path, fresh_engine: Engine
) -> None:
    machine = os.environ.get("DOCKER_HOST")
    package(repo, machine, "repro")
    package(repo, fresh_engine.host, "repro")

    base = layers(machine, f"{BASE}:repro")
    image = layers(machine, f"{IMAGE}:repro")
    assert layers(fresh_engine.host, f"{BASE}:repro") == base
    assert layers(fresh_engine.host, f"{IMAGE}:repro") == image
    # The base's layers, then only two: the distributions the base venv lacks, and the sources.
    assert image[: len(base)] == base
    assert len(image) == len(base) + 2
    listing = docker(
        machine,
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        f"{IMAGE}:repro",
        "-c",
        "ls -d /opt/venv/lib/python3.13/site-packages/prefect-*.dist-info; ls /opt;"
        " cat /opt/venv/deps-layer.txt",
    )
    assert listing.count("prefect-") == 1
    assert "pipeline-venv" not in listing
    # The deps layer's record: what the pipeline adds to the base (pyarrow), not what the base has.
    assert re.search(r"^pyarrow-[\d.]+$", listing, flags=re.M), listing


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    try:
        with local_registry(tmp_path, free_port()) as address:
            yield address, tmp_path / "blobs"
    except RegistryUnavailable as error:
        skip_or_fail(str(error))


def test_after_a_code_only_change_a_fresh_engine_pushes_only_the_sources_layer(
    repo: Path, fresh_engine: Engine, registry: tuple[str, Path]
) -> None:
    address, storage = registry
    option = f"--docker-registries={{'ci': {{'address': '{address}', 'default': True}}}}"
    package(repo, os.environ.get("DOCKER_HOST"), "before", option)
    stored = blobs(storage)

    tasks = repo / f"pipelines/{PIPELINE}/tasks.py"
    tasks.write_text(tasks.read_text() + "\n# a code-only change\n")
    commit_all(repo, "code-only change")
    # What the deploy tool does with a registry: pull the image it replaces, so the engine knows which
    # layers the registry already has.
    missing = f"{address}/{IMAGE}:never-pushed"
    seeded = seed_layers([f"{address}/{IMAGE}:before", missing], docker_host=fresh_engine.host)
    assert seeded.pulled == (f"{address}/{IMAGE}:before",), seeded.failed
    assert "manifest unknown" in seeded.failed[missing] or "not found" in seeded.failed[missing]
    # As the deploy does on a runner (--free-disk): the pulled image is deleted before the build; the engine
    # still knows which layers the registry has.
    replaced_layers = layers(fresh_engine.host, f"{address}/{IMAGE}:before")
    assert forget_seeded(seeded, fresh_engine.host) is None
    assert not docker(fresh_engine.host, "image", "ls", "-q", f"{address}/{IMAGE}:before").strip()
    pushed = package(repo, fresh_engine.host, "after", option)

    new = {digest: size for digest, size in blobs(storage).items() if digest not in stored}
    # The sources layer, the image config and the manifest.
    assert len(new) == 3, new
    assert sum(new.values()) < 100_000, new
    assert len(re.findall(r": Pushed", pushed)) == 1, pushed[-3000:]
    assert layers(fresh_engine.host, f"{address}/{IMAGE}:after")[:-1] == replaced_layers[:-1]


def test_a_runner_deletes_what_its_build_stages_left_and_keeps_its_images(fresh_engine: Engine) -> None:
    host = fresh_engine.host

    def stage_images(tag: str) -> list[str]:
        return [
            line
            for stage in BUILD_STAGES
            for line in docker(
                host,
                "image",
                "ls",
                "--all",
                "--quiet",
                "--filter",
                f"label={BUILD_STAGE_LABEL}={stage}-{tag}",
            ).split()
        ]

    assert stage_images("repro") and stage_images("after"), "the builds above left no labelled stage image"
    after = stage_images("after")

    def tagged_images() -> list[str]:
        listing = docker(host, "image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").splitlines()
        return sorted(line for line in listing if not line.startswith("<none>"))

    images_before = tagged_images()

    reclaimed = drop_build_stages("repro", docker_host=host)

    assert re.fullmatch(
        r"base: Total reclaimed space: \S+; deps: Total reclaimed space: \S+", reclaimed
    ), reclaimed
    assert stage_images("repro") == []
    # Another build's leftovers (another tag) are not this deploy's to delete, nor the steps they share.
    assert stage_images("after") == after
    reclaimed = drop_build_stages("after", docker_host=host)
    assert stage_images("after") == []
    # The last builds of the stages gone, their layers (the pex copied in, the layer trees) go too.
    sizes = re.findall(r"Total reclaimed space: ([\d.]+)([kMG]?B)", reclaimed)
    assert any(unit in ("MB", "GB") and float(value) > 1 for value, unit in sizes), reclaimed
    assert tagged_images() == images_before
    assert layers(host, f"{IMAGE}:repro")[: len(layers(host, f"{BASE}:repro"))] == layers(
        host, f"{BASE}:repro"
    )


def test_a_pipeline_that_adds_nothing_to_the_base_builds_and_runs(repo: Path) -> None:
    """Its deps layer holds only the (empty) record: copying it must not leave an empty diff, after which the
    classic builder fails the next COPY (moby/moby#37965)."""
    add_minimal_pipeline(repo)
    machine = os.environ.get("DOCKER_HOST")
    package(repo, machine, "minimal", pipeline=MINIMAL_PIPELINE)

    image = f"{MINIMAL_PIPELINE.replace('_', '-')}:minimal"
    assert len(layers(machine, image)) == len(layers(machine, f"{BASE}:minimal")) + 2
    script = f"from pipelines.{MINIMAL_PIPELINE}.flow import {MINIMAL_PIPELINE} as f; print(f.fn('oi'))"
    output = docker(
        machine,
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        image,
        "-c",
        f'wc -c < /opt/venv/deps-layer.txt; python -c "{script}"',
    )
    assert output.split() == ["0", "oi"], output
