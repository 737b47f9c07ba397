"""The base image (//:base) the pipeline images build on: published once per set of inputs, then reused.

Its registry tag names its inputs (``inputs-<hash>``): the files Pants says //:base is built from, the
launcher and pants.toml (they derive the lockfile and pick pex), and the OS image. A deploy that finds that
tag in the registry builds the pipeline images on it, by digest, instead of rebuilding the base; one that
does not builds //:base (reproducible: the same layers on any engine) and publishes the tag, so the next
deploy, on whichever runner, does not build it again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline_platform.images import docker, pull
from pipeline_platform.pants import run_pants

BASE_ADDRESS = "//:base"
BASE_REPOSITORY = "rio-pipelines-base"  # //:base's `repository` (root BUILD)
BUILD_ARG = "BASE_IMAGE"  # the standard image's `ARG BASE_IMAGE=//:base` (build-support/macros/pipeline.py)
INPUTS_TAG_PREFIX = "inputs-"
# Not among //:base's files for Pants, but they change what it builds.
EXTRA_INPUTS = ("pants", "pants.toml", "3rdparty/python/constraints.txt")


@dataclass(frozen=True)
class BaseImage:
    """The base for one deploy's builds: ``published`` (a ``name@sha256:...``) or None (build //:base)."""

    inputs_reference: str  # <registry>/rio-pipelines-base:inputs-<hash>
    published: str | None = None
    why_not: str = ""  # why no published base is used (for the log)

    @property
    def inputs_key(self) -> str:
        """The hash in the inputs tag: what the images built on this base also depend on."""
        return self.inputs_reference.rpartition(INPUTS_TAG_PREFIX)[2]

    def build_options(self) -> list[str]:
        """Pants options for the image build: the published base instead of building //:base."""
        if self.published is None:
            return []
        # The build arg replaces the address in `FROM $BASE_IMAGE`: Pants then infers no dependency on
        # //:base and does not build it.
        return [f"--docker-build-args=+['{BUILD_ARG}={self.published}']"]


def input_files(repo: Path) -> list[str]:
    """Every file //:base is built from (Pants's own answer), plus ``EXTRA_INPUTS``."""
    listed = run_pants(repo, "filedeps", "--transitive", BASE_ADDRESS).split()
    return sorted({*listed, *(path for path in EXTRA_INPUTS if (repo / path).is_file())})


def inputs_hash(repo: Path, files: Iterable[str], os_image: str) -> str:
    """A digest of the files' paths and contents (as on disk: uncommitted edits count) and the OS image."""
    digest = hashlib.sha256(f"os-image\0{os_image}\0".encode())
    for path in sorted(set(files)):
        digest.update(f"{path}\0".encode())
        digest.update(hashlib.sha256((repo / path).read_bytes()).digest())
    return digest.hexdigest()[:20]


def inputs_reference(registry: str, key: str) -> str:
    return f"{registry}/{BASE_REPOSITORY}:{INPUTS_TAG_PREFIX}{key}"


def sha_reference(registry: str, tag: str) -> str:
    """Where ``./pants publish //:base`` puts the base: tagged like the pipeline images (IMAGE_TAG)."""
    return f"{registry}/{BASE_REPOSITORY}:{tag}"


def find_published(repo: Path, registry: str, docker_host: str | None = None) -> BaseImage:
    """The published base for this checkout's inputs, pulled (only what the engine lacks), or why none."""
    os_image = os.environ.get("OS_IMAGE", "")
    reference = inputs_reference(registry, inputs_hash(repo, input_files(repo), os_image))
    why_not = pull(reference, docker_host)
    if why_not is not None:
        return BaseImage(reference, why_not=why_not)
    digest = repo_digest(reference, docker_host)
    if digest is None:
        return BaseImage(reference, why_not="the engine reports no registry digest for it")
    return BaseImage(reference, published=digest)


def repo_digest(reference: str, docker_host: str | None = None) -> str | None:
    """``<name>@sha256:...`` of a pulled or pushed ``reference``, for its own repository."""
    inspected = docker(docker_host, "image", "inspect", "--format", "{{json .RepoDigests}}", reference)
    if inspected.returncode != 0:
        return None
    name = reference.rpartition(":")[0]
    digests = [item for item in json.loads(inspected.stdout) if item.startswith(f"{name}@")]
    return digests[0] if digests else None


def publish(built: str, reference: str, docker_host: str | None = None) -> str | None:
    """Tags the base just built and pushed (``built``) as ``reference`` and pushes that tag; None on failure.

    Its layers are in the registry already (``./pants publish`` pushed them), so this uploads a manifest.
    """
    for args in (("tag", built, reference), ("push", "--quiet", reference)):
        if docker(docker_host, *args).returncode != 0:
            return None
    return repo_digest(reference, docker_host)
