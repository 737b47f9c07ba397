"""Images published by their inputs, then reused: the base (//:base) and each pipeline's deps image
(``:deps-image``: its requirements' layer alone, made on //:base).

A code change leaves the base and a pipeline's requirements as they were, but an engine without a build
cache (a new CI runner) would still rebuild them: the deps layer is a venv made from the deps pex, the
longest step of a fresh deploy. Each such image gets a registry tag naming its inputs
(``inputs-<hash>``):

- the base: the files Pants says //:base is built from, the launcher and pants.toml (they derive the
  lockfile and pick pex), the constraints, and the OS image;
- a deps image: the locked distributions its requirements pull in (from the lockfile, each version and its
  files' hashes; the requirements from the target graph, so no deps pex is packaged just to be hashed), the
  resolve's settings and pants.toml, the recipe (the BUILD macro), and the base's file system as the
  engine reports it (its layers and environment), not the base's inputs: a new base whose layers are those
  of the old one (a label changed, or a rebuild that gave the same reproducible layers) keeps every deps
  image. Pipelines whose requirements resolve alike share one deps image (``rio-pipelines-deps``): a deploy
  that lacks it builds it once, before the pipeline images, for all of them.

A deploy that finds the tag builds on it, by digest, instead of rebuilding; one that does not builds the
image (reproducible: the same layers on any engine) and publishes the tag, so that the next deploy, on
whichever runner, does not build it again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipeline_platform import docker_cli
from pipeline_platform.images import IMAGE_TAG_ENV
from pipeline_platform.pants import TargetGraph, peek, run_pants
from pipelines.common.naming import PipelineName

INPUTS_TAG_PREFIX = "inputs-"
NO_DIGEST = "the engine reports no registry digest for it"
BASE_ADDRESS = "//:base"
BASE_REPOSITORY = "rio-pipelines-base"  # //:base's `repository` (root BUILD)
# The published deps images: one repository, one tag per set of distributions (pipelines share them).
DEPS_REPOSITORY = "rio-pipelines-deps"
# The lockfile ./pants derives from the pins (never committed), and the addresses of the pins' requirements.
LOCKFILE = "3rdparty/python/default.lock"
PINS_DIR = "3rdparty/python/pins"
REQUIREMENTS_ADDRESS_PREFIX = "3rdparty/python:"
# Lockfile fields that list every pin of the repository: a pin another pipeline uses must not change a key.
_REPOSITORY_WIDE = frozenset({"requirements", "constraints", "locked_resolves", "path_mappings"})
# build-support/macros/pipeline.py: the standard image's `ARG BASE_IMAGE=//:base`, the recipe, and its
# per-pipeline `ARG DEPS_IMAGE_<DIR NAME>=:deps-image` (one per pipeline: Pants 2.17's build args are global).
BASE_BUILD_ARG = "BASE_IMAGE"
DEPS_BUILD_ARG_PREFIX = "DEPS_IMAGE_"
RECIPE = "build-support/macros/pipeline.py"
DEPS_RECIPE = (RECIPE, "pants.toml")
# Not among //:base's files for Pants, but they change what it builds.
EXTRA_BASE_INPUTS = ("pants", "pants.toml", "3rdparty/python/constraints.txt")


@dataclass(frozen=True)
class Published:
    """An image for one deploy's builds: ``published`` (``name@sha256:...``) or None (build it), and why not.

    ``pipeline`` is the deps image's pipeline (None for the base).
    """

    inputs_reference: str  # <registry>/<repository>:inputs-<hash>
    published: str | None = None
    why_not: str = ""  # why no published image is used (for the log)
    pipeline: PipelineName | None = None

    @property
    def inputs_key(self) -> str:
        """The hash in the inputs tag: what the images built on this one also depend on."""
        return self.inputs_reference.rpartition(INPUTS_TAG_PREFIX)[2]


def find(reference: str, pipeline: PipelineName | None = None, docker_host: str | None = None) -> Published:
    """The image at ``reference``, pulled (only what the engine lacks), or why none."""
    why_not = docker_cli.pull(reference, docker_host)
    if why_not is not None:
        return Published(reference, why_not=why_not, pipeline=pipeline)
    digest = docker_cli.repo_digest(reference, docker_host)
    return Published(reference, digest, "" if digest else NO_DIGEST, pipeline)


def publish(built: str, image: Published, docker_host: str | None = None) -> str | None:
    """Tags the image just built (``built``) with its inputs reference and pushes that tag; None on failure.

    Its layers went up with the pipeline images, so this uploads a manifest (and a config).
    """
    return docker_cli.tag_and_push(built, image.inputs_reference, docker_host)


def build_options(base: str | None, deps: Sequence[Published] = ()) -> list[str]:
    """Pants options for the image build: the base already on the engine (published, or built by this
    deploy) and each published deps image, instead of building them.

    The build args replace the addresses in ``FROM $BASE_IMAGE`` and ``FROM $DEPS_IMAGE_<DIR NAME>``: Pants
    then infers no dependency on //:base or ``:deps-image`` and builds neither (nor a deps stage).
    """
    args = [f"{BASE_BUILD_ARG}={base}"] if base else []
    args += [
        f"{deps_build_arg(image.pipeline)}={image.published}"
        for image in deps
        if image.published and image.pipeline is not None
    ]
    return [f"--docker-build-args=+{args!r}"] if args else []


def inputs_hash(seed: bytes, files: Iterable[tuple[str, Path]]) -> str:
    """A digest of ``seed`` and of each file's name and contents (as on disk: uncommitted edits count)."""
    digest = hashlib.sha256(seed)
    for name, path in files:
        digest.update(f"{name}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


# --- the base


def base_input_files(repo: Path) -> list[str]:
    """Every file //:base is built from (Pants's own answer), plus ``EXTRA_BASE_INPUTS``."""
    listed = run_pants(repo, "filedeps", "--transitive", BASE_ADDRESS).split()
    return sorted({*listed, *(path for path in EXTRA_BASE_INPUTS if (repo / path).is_file())})


def base_inputs_hash(repo: Path, files: Iterable[str], os_image: str) -> str:
    seed = f"os-image\0{os_image}\0".encode()
    return inputs_hash(seed, ((path, repo / path) for path in sorted(set(files))))


def base_inputs_reference(registry: str, key: str) -> str:
    return f"{registry}/{BASE_REPOSITORY}:{INPUTS_TAG_PREFIX}{key}"


def base_built_reference(registry: str, tag: str) -> str:
    """Where ``./pants publish //:base`` puts the base: tagged like the pipeline images (IMAGE_TAG)."""
    return f"{registry}/{BASE_REPOSITORY}:{tag}"


def find_base(repo: Path, registry: str, docker_host: str | None = None) -> Published:
    """The published base for this checkout's inputs, pulled, or why none."""
    key = base_inputs_hash(repo, base_input_files(repo), os.environ.get("OS_IMAGE", ""))
    return find(base_inputs_reference(registry, key), docker_host=docker_host)


def build_base(repo: Path, registry: str, tag: str) -> str:
    """Builds //:base alone (not pushed), tagged as this deploy's images are: its reference on the engine.

    Built before the pipeline images, so that their deps images are looked up by the new base's layers."""
    registries = {"pipelines": {"address": registry, "default": True}}
    run_pants(repo, f"--docker-registries={registries!r}", "package", BASE_ADDRESS, env={IMAGE_TAG_ENV: tag})
    return base_built_reference(registry, tag)


def base_layers_key(reference: str, docker_host: str | None = None) -> str | None:
    """A digest of what a deps layer made on the image ``reference`` can depend on: its layers (the file
    system) and its environment, not its labels; None if the engine does not have the image."""
    inspected = docker_cli.inspect_image(
        reference, "{{json .RootFS.Layers}} {{json .Config.Env}}", docker_host
    )
    return None if inspected is None else hashlib.sha256(inspected.encode()).hexdigest()[:20]


# --- the deps images


def deps_build_arg(pipeline: PipelineName) -> str:
    return DEPS_BUILD_ARG_PREFIX + pipeline.dir_name.upper()


def deps_pex_address(pipeline: PipelineName) -> str:
    return f"pipelines/{pipeline.dir_name}:deps-pex"


def deps_built_reference(pipeline: PipelineName, registry: str, tag: str) -> str:
    """Where ``./pants package`` puts a built ``:deps-image`` (tagged like the pipeline image; not pushed)."""
    return f"{registry}/{pipeline.image_name}-deps:{tag}"


def deps_inputs_reference(registry: str, key: str) -> str:
    """Shared by every pipeline whose requirements resolve to the same distributions."""
    return f"{registry}/{DEPS_REPOSITORY}:{INPUTS_TAG_PREFIX}{key}"


@dataclass(frozen=True)
class Locked:
    """One distribution of the lockfile: what a pex resolved from it installs, and what it requires."""

    version: str
    artifacts: tuple[str, ...]  # hashes of the files the lockfile allows for it
    requires: tuple[str, ...]  # canonical names, markers ignored (a superset of what gets installed)


@dataclass(frozen=True)
class Lockfile:
    settings: str  # the resolve's options (interpreter, pip and pex versions...), as canonical JSON
    locked: dict[str, Locked]


class DepsKeyError(RuntimeError):
    """The deps images' keys cannot be computed (the lockfile or a pin file is missing or unreadable)."""


def read_lockfile(path: Path) -> Lockfile:
    """The lockfile ./pants derives from the pins (Pex's JSON lock after Pants's `//` header)."""
    try:
        text = path.read_text()
        data = json.loads(
            "".join(line for line in text.splitlines(keepends=True) if not line.startswith("//"))
        )
        return _lockfile(data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DepsKeyError(
            f"{path}: not a lockfile Pants wrote ({error}); ./pants derives it from 3rdparty/python's "
            "pins on its next run (any goal)"
        ) from error


def _lockfile(data: dict[str, Any]) -> Lockfile:
    locked: dict[str, Locked] = {
        str(canonicalize_name(entry["project_name"])): Locked(
            entry["version"],
            tuple(sorted(artifact["hash"] for artifact in entry.get("artifacts", []))),
            tuple(
                sorted(
                    {canonicalize_name(Requirement(dist).name) for dist in entry.get("requires_dists", [])}
                )
            ),
        )
        for resolve in data.get("locked_resolves", [])
        for entry in resolve.get("locked_requirements", [])
    }
    settings = {key: value for key, value in data.items() if key not in _REPOSITORY_WIDE}
    return Lockfile(json.dumps(settings, sort_keys=True), locked)


def requirement_closure(direct: Iterable[str], lockfile: Lockfile) -> dict[str, Locked]:
    """The locked distributions ``direct`` (requirement names) pull in, markers ignored: a superset of what
    a pex of them installs, so whatever changes in that pex changes here too."""
    closure: dict[str, Locked] = {}
    queue: deque[str] = deque(str(canonicalize_name(name)) for name in direct)
    while queue:
        name = queue.popleft()
        if name in closure or name not in lockfile.locked:
            continue
        closure[name] = lockfile.locked[name]
        queue.extend(closure[name].requires)
    return closure


def direct_requirements(graph: TargetGraph, pipeline: PipelineName) -> set[str]:
    """The pins (``python_requirements`` generators of 3rdparty/python) the pipeline's ``:deps-pex`` depends
    on, directly or through its sources."""
    return {
        address.removeprefix(REQUIREMENTS_ADDRESS_PREFIX).partition("#")[0]
        for address in graph.transitive_dependencies(deps_pex_address(pipeline))
        if address.startswith(REQUIREMENTS_ADDRESS_PREFIX) and "#" in address
    }


def deps_inputs_hash(pins: dict[str, str], lockfile: Lockfile, base_layers: str, recipe: bytes) -> str:
    """A digest of what the deps layer is made of: the pipeline's requirements (each pin file, extras
    included: two pipelines share a deps image only when they ask for the same), the locked distributions
    they pull in (each version and its files' hashes: a superset, markers ignored, so whatever the pex
    installs is covered), the resolve's settings, the base's layers key and the recipe (the macro, and
    pants.toml: how Pants builds the pex). Not the pipeline itself: pipelines with the same requirements
    share one deps image."""
    seed = f"base-layers\0{base_layers}\0".encode() + hashlib.sha256(recipe).digest()
    closure = requirement_closure(pins, lockfile)
    document = json.dumps(
        {
            "pins": pins,
            "settings": lockfile.settings,
            "distributions": {
                name: [locked.version, list(locked.artifacts)] for name, locked in closure.items()
            },
        },
        sort_keys=True,
    )
    return hashlib.sha256(seed + document.encode()).hexdigest()[:20]


def read_pins(repo: Path, names: Iterable[str]) -> dict[str, str]:
    """Each pin file's text (3rdparty/python/pins/<name>.txt, written by tools/refresh_pins.py)."""
    try:
        return {name: (repo / PINS_DIR / f"{name}.txt").read_text() for name in sorted(names)}
    except OSError as error:
        raise DepsKeyError(f"{error}: run `python3 tools/refresh_pins.py` to rewrite the pins") from error


def find_deps(
    repo: Path,
    registry: str,
    pipelines: Sequence[PipelineName],
    base_layers: str,
    docker_host: str | None = None,
) -> list[Published]:
    """For each pipeline, its published deps image for this checkout, pulled, or why none (one lookup per
    distinct image). Keyed on the lockfile and the target graph (one Pants query), so that no deps pex is
    packaged unless its image has to be built."""
    if not pipelines:
        return []
    graph = peek(repo, *(f"pipelines/{pipeline.dir_name}::" for pipeline in pipelines), "pipelines/common::")
    lockfile = read_lockfile(repo / LOCKFILE)
    recipe = b"".join((repo / path).read_bytes() for path in DEPS_RECIPE)
    references = {
        pipeline: deps_inputs_reference(
            registry,
            deps_inputs_hash(
                read_pins(repo, direct_requirements(graph, pipeline)), lockfile, base_layers, recipe
            ),
        )
        for pipeline in pipelines
    }
    found = {
        reference: find(reference, None, docker_host) for reference in dict.fromkeys(references.values())
    }
    return [replace(found[references[pipeline]], pipeline=pipeline) for pipeline in pipelines]


def build_missing_deps(
    repo: Path,
    registry: str,
    tag: str,
    base_image: str,
    deps: Sequence[Published],
    docker_host: str | None = None,
    after_each: Callable[[], None] | None = None,
) -> tuple[list[Published], list[Published]]:
    """Builds each deps image ``deps`` lacks once, for the first pipeline that needs it (on ``base_image``),
    and publishes it under its inputs tag. Returns ``deps`` with the published ones filled in, and what was
    built (one per image, naming that pipeline; ``published`` None if its push failed).

    With ``after_each``, the images are built one at a time and ``after_each`` runs after each build (a
    runner short of disk deletes that build's stage before the next one); otherwise in one Pants run."""
    needed: dict[str, Published] = {}
    for item in deps:
        if not item.published and item.pipeline is not None:
            needed.setdefault(item.inputs_reference, item)
    if not needed:
        return list(deps), []
    registries = {"pipelines": {"address": registry, "default": True}}
    targets = [f"pipelines/{item.pipeline.dir_name}:deps-image" for item in needed.values() if item.pipeline]
    for batch in [[target] for target in targets] if after_each else [targets]:
        run_pants(
            repo,
            f"--docker-registries={registries!r}",
            f"--docker-build-args=+{[f'{BASE_BUILD_ARG}={base_image}']!r}",
            "package",
            *batch,
            env={IMAGE_TAG_ENV: tag},
        )
        if after_each:
            after_each()
    built = []
    for item in needed.values():
        assert item.pipeline is not None
        digest = publish(deps_built_reference(item.pipeline, registry, tag), item, docker_host)
        built.append(replace(item, published=digest, why_not="" if digest else "not pushed"))
    published = {item.inputs_reference: item.published for item in built}
    filled = [
        (
            replace(item, published=published[item.inputs_reference], why_not="")
            if published.get(item.inputs_reference)
            else item
        )
        for item in deps
    ]
    return filled, built
