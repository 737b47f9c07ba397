"""A Docker registry (Debian's docker-registry, i.e. distribution) on 127.0.0.1 for tests and benchmarks."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


class RegistryUnavailable(RuntimeError):
    """No registry binary on this machine (Debian: apt-get install docker-registry)."""


def blobs(storage: Path) -> dict[str, int]:
    """Every blob the registry stores (layers, image configs, manifests): digest -> size in bytes."""
    root = storage / "docker" / "registry" / "v2" / "blobs" / "sha256"
    return {data.parent.name: data.stat().st_size for data in root.glob("*/*/data")} if root.is_dir() else {}


@contextlib.contextmanager
def local_registry(directory: Path, port: int) -> Iterator[str]:
    """Serves a registry storing under ``directory/blobs``; yields its address (``127.0.0.1:<port>``)."""
    binary = shutil.which("docker-registry") or shutil.which("registry")
    if binary is None:
        raise RegistryUnavailable("no local registry binary (Debian: apt-get install docker-registry)")
    config = directory / "registry.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {directory / 'blobs'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/v2/").status_code == 200:
                    break
            time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
