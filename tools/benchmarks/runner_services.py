"""A CI runner's deploy, measured: what fresh_runner.py and fleet_rebuild.py share.

- ``runner_services``: Debian's docker-registry on 127.0.0.1 behind a byte-counting relay, a Prefect server
  (SQLite, its own home) with the work pools, and the settings the deploy workflows give the tool;
- ``restore_caches``: the caches the workflows restore, copied into one place every runner uses;
- ``runner_environment`` and ``new_checkout``: a runner's environment and its fresh clone;
- ``run_deploy``: the real deploy tool run on a pseudo-terminal, with its wall per phase, the bytes the relay
  saw, the registry's growth and its new blobs;
- ``image_layers``: what the registry holds for one image (layer digests, sizes, diff ids, instructions).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from prefect.client.orchestration import PrefectClient

from pipeline_platform.local_server import ensure_local_server, free_port, stop_local_server
from pipeline_platform.pools import apply_pools, load_pool_templates
from pipelines.common.naming import WORK_POOLS

# `tests` is first-party only when ruff runs with tests/ in its sandbox: in a block of its own, it sorts the
# same either way.
# isort: split
from benchmarks import byte_counting_relay, change_aware, deploy_phases, restored_caches
from repo_testing.registry import blobs, local_registry
from repo_testing.workspace import REPO_ROOT, git, stop_pantsd

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
REGISTRY_NAMESPACE = "rio"
DEPLOY_TIMEOUT_S = 3600.0
# Not passed to the deploys: the outer Pants run's own settings, and where this machine points tools.
DROPPED_ENV = {"PYTHONPATH", "PREFECT_API_URL", "PIPELINES_REPO_ROOT", "IMAGE_TAG", "GITHUB_STEP_SUMMARY"}


# --------------------------------------------------------------------------- environments


def machine_environment() -> dict[str, str]:
    """This machine's environment, minus the outer Pants run's own settings."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in DROPPED_ENV and not key.startswith("PEX")
    }


def runner_environment(caches: restored_caches.RestoredCaches, docker_host: str | None) -> dict[str, str]:
    """A CI runner: none of this machine's Pants or Docker settings, the restored caches, and the engine at
    ``docker_host`` (None: this machine's)."""
    kept = {
        key: value
        for key, value in machine_environment().items()
        if "PANTS" not in key
        and key not in {"XDG_CACHE_HOME"}
        and (docker_host is None or key != "DOCKER_HOST")
    }
    return {**kept, **caches.env(), **({"DOCKER_HOST": docker_host} if docker_host else {})}


def new_checkout(repo: Path, checkout: Path) -> None:
    """A new clone of ``repo`` at ``checkout`` (what was there before is discarded, as a runner's is)."""
    shutil.rmtree(checkout, ignore_errors=True)
    git(repo.parent, "clone", "-q", str(repo), str(checkout))


def deploy_settings(root: Path, registry_name: str, api_url: str, os_image: str) -> dict[str, str]:
    """What the deploy workflows set (pants.ci.toml, the registry, the API), plus a wide dumb terminal."""
    return {
        "PANTS_CONFIG_FILES": "pants.ci.toml",
        "CI": "true",
        "PIPELINES_DEPLOY_FREE_DISK": "true",
        "PIPELINES_IMAGE_REGISTRY": registry_name,
        "PREFECT_API_URL": api_url,
        "PREFECT_HOME": str(root / "prefect-client"),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DOCKER_CONFIG": str(root / "docker-config"),
        "OS_IMAGE": os_image,
        "TERM": "dumb",
        "NO_COLOR": "1",
        "COLUMNS": str(deploy_phases.TERMINAL_COLUMNS),
    }


def os_image_tag(docker_host: str | None = None) -> str:
    """The OS image the root Dockerfile builds on, made by build-support/docker/os-image.sh in the engine at
    ``docker_host`` (None: this machine's) when that engine lacks it."""
    env = {**os.environ, **({"DOCKER_HOST": docker_host} if docker_host else {})}
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "build-support/docker/os-image.sh")],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit(f"no OS image to build on: {result.stderr.strip()} (docs/imagem-base.md)")
    return result.stdout.strip().splitlines()[-1]


def interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP raise, so that every service is stopped on the way out."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupt)


# --------------------------------------------------------------------------- services


@dataclass(frozen=True)
class Services:
    registry: str  # 127.0.0.1:<port>, without the relay
    storage: Path  # where the registry stores its blobs
    relay: byte_counting_relay.ByteCountingRelay
    registry_name: str  # what the deploys push to: 127.0.0.1:<relay port>/rio
    api_url: str
    settings: dict[str, str]  # deploy_settings()
    logs: Path


async def _apply_pools(api_url: str, repo: Path) -> None:
    async with PrefectClient(api_url) as client:
        await apply_pools(client, load_pool_templates(repo), WORK_POOLS)


def untag(registry_prefix: str) -> None:
    """Removes this run's registry tags from the machine's engine (not the layers other images use)."""
    listing = subprocess.run(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    mine = [reference for reference in listing if reference.startswith(registry_prefix)]
    if mine:
        subprocess.run(["docker", "image", "rm", "--no-prune", *mine], capture_output=True, check=False)


def runner_services(stack: contextlib.ExitStack, root: Path, repo: Path, os_image: str) -> Services:
    """The registry (behind the relay) and the Prefect server with ``repo``'s work pools, under ``root``;
    stopped when ``stack`` closes."""
    registry_dir = root / "registry"
    shutil.rmtree(registry_dir, ignore_errors=True)
    registry_dir.mkdir(parents=True)
    registry = stack.enter_context(local_registry(registry_dir, free_port()))
    relay = byte_counting_relay.ByteCountingRelay(int(registry.rpartition(":")[2]))
    stack.callback(relay.close)
    registry_name = f"127.0.0.1:{relay.port}/{REGISTRY_NAMESPACE}"
    stack.callback(untag, f"127.0.0.1:{relay.port}/")
    home = root / "prefect-server"
    shutil.rmtree(home, ignore_errors=True)
    stack.callback(stop_local_server, home)
    server = ensure_local_server(home, free_port())
    asyncio.run(_apply_pools(server.api_url, repo))
    (root / "docker-config").mkdir(exist_ok=True)
    settings = deploy_settings(root, registry_name, server.api_url, os_image)
    return Services(registry, registry_dir / "blobs", relay, registry_name, server.api_url, settings, root)


def restore_caches(
    stack: contextlib.ExitStack, root: Path, keep: bool, pants_caches: bool = True
) -> restored_caches.RestoredCaches:
    """The caches the workflows save and restore, at one path for every runner (as ~/.cache on GitHub's):
    copies of this machine's. Removed when ``stack`` closes unless ``keep`` (a copy of a few GB).

    Without ``pants_caches`` only the launcher's cache (the bootstrapped Pants) is copied: Pants's named
    caches and local store start empty, for a series of runners whose first one fills them, rather than this
    machine's, which hold every resolve and build it ever made."""
    caches = restored_caches.RestoredCaches(root)
    if not keep:
        stack.callback(shutil.rmtree, caches.root, True)
    restored_caches.restore_launcher_cache(caches, os.environ)
    if pants_caches:
        restored_caches.restore_named_caches(caches, os.environ)
        restored_caches.restore_local_store(caches, os.environ)
    return caches


# --------------------------------------------------------------------------- one deploy


@dataclass
class DeployRun:
    label: str
    wall: float = 0.0
    tag: str = ""
    phases: dict[str, float] = field(default_factory=dict)
    uploaded: int = 0
    downloaded: int = 0
    growth: int = 0
    new_blobs: list[tuple[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def run_deploy(
    services: Services, result: DeployRun, repo: Path, env: Mapping[str, str], deploy_args: Sequence[str]
) -> deploy_phases.TimedRun:
    """Runs the deploy tool (``--environment staging`` and ``deploy_args``) in ``repo`` and fills ``result``:
    wall, phases, bytes each way through the relay, registry growth, new blobs, the tag it built."""
    lockfile = repo / "3rdparty/python/default.lock"
    had_lockfile = lockfile.is_file()
    before = blobs(services.storage)
    services.relay.reset()
    log = services.logs / f"deploy-{result.label}.log"
    run = deploy_phases.run_timed(
        [*change_aware.DEPLOY, "--environment", "staging", *deploy_args], repo, env, log, DEPLOY_TIMEOUT_S
    )
    stop_pantsd(repo)  # none should be left; a killed launcher would leave its daemon
    if run.returncode != 0:
        tail = "\n".join(run.output.splitlines()[-30:])
        raise deploy_phases.DeployFailed(
            f"{result.label} deploy failed (exit {run.returncode}, log {log}):\n{tail}"
        )
    traffic = services.relay.traffic()
    after = blobs(services.storage)
    result.wall = run.wall
    result.uploaded = traffic.uploaded
    result.downloaded = traffic.downloaded
    result.growth = sum(after.values()) - sum(before.values())
    result.new_blobs = sorted(
        ((digest, size) for digest, size in after.items() if digest not in before), key=lambda item: -item[1]
    )
    tagged = run.first(r"Building \d+ image\(s\) with Pants, tag (\S+?),")
    if tagged is None:
        raise deploy_phases.DeployFailed(f"{result.label} deploy built no image (log {log})")
    result.tag = tagged[1][1]
    lockfile_stamp = repo / "3rdparty/python/default.lock.inputs"
    stamp = lockfile_stamp.stat().st_mtime if lockfile_stamp.is_file() else None
    workunits = deploy_phases.pants_workunits(repo, run.started)
    if not had_lockfile and lockfile.is_file() and run.first(deploy_phases.DERIVING) is None:
        result.notes.append("no lockfile in the clone: ./pants restored it from its cache, not derived")
    result.phases, notes = deploy_phases.phases(
        run, workunits, traffic.active, stamp, slot=byte_counting_relay.ACTIVITY_RESOLUTION_S
    )
    result.notes.extend(notes)
    return run


# --------------------------------------------------------------------------- the registry


def registry_json(url: str, accept: str | None = None) -> dict[str, Any] | None:
    response = httpx.get(url, headers={"Accept": accept} if accept else {}, timeout=30)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def image_layers(registry: str, repository: str, tag: str) -> list[tuple[str, int, str, str]]:
    """(digest, compressed size, diff id, instruction) of each layer of ``repository:tag``, oldest first."""
    manifest = registry_json(f"http://{registry}/v2/{repository}/manifests/{tag}", MANIFEST_V2)
    if manifest is None:
        return []
    config = registry_json(f"http://{registry}/v2/{repository}/blobs/{manifest['config']['digest']}") or {}
    diff_ids: list[str] = config["rootfs"]["diff_ids"]
    instructions = [
        _instruction(entry.get("created_by", ""))
        for entry in config.get("history", [])
        if not entry.get("empty_layer", False)
    ]
    if len(instructions) != len(diff_ids):
        instructions = ["?"] * len(diff_ids)
    return [
        (layer["digest"], int(layer["size"]), diff_id, instruction)
        for layer, diff_id, instruction in zip(manifest["layers"], diff_ids, instructions, strict=True)
    ]


def _instruction(created_by: str) -> str:
    text = created_by.removeprefix("/bin/sh -c #(nop) ").removeprefix("/bin/sh -c ").strip()
    text = re.sub(r"\b(dir|file):([0-9a-f]{12})[0-9a-f]{52}\b", r"\1:\2", " ".join(text.split()))
    return (text[:57] + "...") if len(text) > 60 else (text or "(imported OS root filesystem)")
