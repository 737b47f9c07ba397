"""The one way the deploy tool reaches the Docker engine: the ``docker`` CLI, the binary Pants builds with, so
the engine checked, pulled from and pushed to is the one Pants builds on (``DOCKER_HOST`` or the default
socket). Images are built by Pants only (images.py)."""

from __future__ import annotations

import json
import subprocess


def docker(docker_host: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    """The docker CLI on ``docker_host`` (else ``$DOCKER_HOST`` or the default socket)."""
    host = ["--host", docker_host] if docker_host else []
    try:
        return subprocess.run(["docker", *host, *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        return subprocess.CompletedProcess(["docker", *args], 127, "", f"no docker CLI on PATH ({error})")


def unavailable_reason(docker_host: str | None = None) -> str | None:
    """None when a Docker engine answers, else why not."""
    result = docker(docker_host, "version", "--format", "{{.Server.APIVersion}}")
    if result.returncode == 0 and result.stdout.strip():
        return None
    return f"no Docker engine reachable ({_last_line(result)[:160]})"


def pull(reference: str, docker_host: str | None = None) -> str | None:
    """Pulls ``reference``: None when pulled, else the engine's last line on why not."""
    result = docker(docker_host, "pull", "--quiet", reference)
    return None if result.returncode == 0 else _last_line(result)[:300]


def image_exists(reference: str, docker_host: str | None = None) -> bool:
    return docker(docker_host, "image", "inspect", "--format", "{{.Id}}", reference).returncode == 0


def inspect_image(reference: str, template: str, docker_host: str | None = None) -> str | None:
    """``docker image inspect --format <template>`` of ``reference``, or None if the engine lacks it."""
    inspected = docker(docker_host, "image", "inspect", "--format", template, reference)
    return inspected.stdout.strip() if inspected.returncode == 0 else None


def repo_digest(reference: str, docker_host: str | None = None) -> str | None:
    """``<name>@sha256:...`` of a pulled or pushed ``reference``, for its own repository."""
    inspected = docker(docker_host, "image", "inspect", "--format", "{{json .RepoDigests}}", reference)
    if inspected.returncode != 0:
        return None
    name = reference.rpartition(":")[0]
    digests = [item for item in json.loads(inspected.stdout) if item.startswith(f"{name}@")]
    return digests[0] if digests else None


def tag_and_push(built: str, reference: str, docker_host: str | None = None) -> str | None:
    """Tags the image ``built`` as ``reference`` and pushes that tag: its digest, or None on failure."""
    for args in (("tag", built, reference), ("push", "--quiet", reference)):
        if docker(docker_host, *args).returncode != 0:
            return None
    return repo_digest(reference, docker_host)


def remove_images(references: list[str], docker_host: str | None = None) -> str | None:
    """Untags ``references`` and deletes what no other tag or image holds: None, else why not."""
    if not references:
        return None
    result = docker(docker_host, "image", "rm", *references)
    return None if result.returncode == 0 else _last_line(result)[:300]


def prune_labelled(label: str, docker_host: str | None = None) -> str:
    """Deletes the untagged leaf images carrying ``label`` (``key`` or ``key=value``) and the untagged parents
    only they used: the engine's line on the space reclaimed, or why nothing was."""
    result = docker(docker_host, "image", "prune", "--force", "--filter", f"label={label}")
    if result.returncode != 0:
        return f"not pruned: {_last_line(result)[:300]}"
    lines = [line for line in result.stdout.splitlines() if line.startswith("Total reclaimed space")]
    return lines[-1] if lines else result.stdout.strip()[-200:]


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"docker {' '.join(result.args[1:2])} exited {result.returncode}"
