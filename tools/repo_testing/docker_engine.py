"""A second, empty Docker engine that shares nothing with the machine's own (tests and benchmarks).

Its own data root, exec root, pid file, socket and bridge: never `--bridge=none`, which makes Docker 20.10
delete the host's docker0 and breaks every other build on the machine. `--iptables=false --ip-masq=false`
leave the host's NAT rules alone (image builds here need no network). Everything it started is stopped by pid
and removed when the block ends, on failure too. Needs root and `dockerd`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class EngineError(RuntimeError):
    """The throwaway engine could not be started (the message says why)."""


@dataclass(frozen=True)
class Engine:
    host: str  # DOCKER_HOST of the engine
    root: Path
    bridge: str
    subnet: ipaddress.IPv4Network

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = ["docker", "--host", self.host, *args]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    def load_image_from(self, image: str, source_host: str | None = None) -> None:
        """Copies ``image`` from another engine (the machine's by default) into this one."""
        source = ["docker", *(["--host", source_host] if source_host else []), "save", image]
        with subprocess.Popen(source, stdout=subprocess.PIPE) as save:
            loaded = subprocess.run(
                ["docker", "--host", self.host, "load", "--quiet"],
                stdin=save.stdout,
                capture_output=True,
                text=True,
            )
        if save.returncode != 0 or loaded.returncode != 0:
            raise EngineError(f"could not copy {image} into the throwaway engine: {loaded.stderr.strip()}")


def _free_subnet() -> ipaddress.IPv4Network:
    routes = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True, check=True).stdout
    used = [
        ipaddress.ip_network(line.split()[0], strict=False)
        for line in routes.splitlines()
        if "/" in line.split()[0]
    ]
    for third in range(200, 255):
        candidate = ipaddress.IPv4Network(f"172.31.{third}.0/24")
        if not any(candidate.overlaps(network) for network in used):
            return candidate
    raise EngineError("no free 172.31.x.0/24 subnet for the throwaway engine's bridge")


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise EngineError(f"ip {' '.join(args)} failed: {result.stderr.strip()} (needs root)")


@contextlib.contextmanager
def throwaway_engine(wait_seconds: float = 90) -> Iterator[Engine]:
    if shutil.which("dockerd") is None:
        raise EngineError("dockerd is not installed (apt-get install docker.io)")
    # Short: containerd's sockets live under the exec root and unix socket paths are limited to 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="rio-engine-", dir="/tmp"))
    bridge = f"rio{uuid.uuid4().hex[:8]}"
    subnet = _free_subnet()
    gateway = next(subnet.hosts())
    process: subprocess.Popen[bytes] | None = None
    bridge_made = False
    # A test timeout ends the process with SIGTERM: turn it into an exception so the cleanup below runs.
    previous_handler = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        _ip("link", "add", bridge, "type", "bridge")
        bridge_made = True
        _ip("addr", "add", f"{gateway}/{subnet.prefixlen}", "dev", bridge)
        _ip("link", "set", bridge, "up")
        socket = root / "docker.sock"
        with (root / "dockerd.log").open("wb") as log:
            process = subprocess.Popen(
                [
                    "dockerd",
                    f"--data-root={root / 'data'}",
                    f"--exec-root={root / 'exec'}",
                    f"--pidfile={root / 'docker.pid'}",
                    f"--host=unix://{socket}",
                    f"--bridge={bridge}",
                    "--iptables=false",
                    "--ip-masq=false",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        engine = Engine(f"unix://{socket}", root, bridge, subnet)
        deadline = time.monotonic() + wait_seconds
        while engine.docker("info").returncode != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (root / "dockerd.log").read_text(errors="replace")[-2000:]
                raise EngineError(f"the throwaway dockerd did not answer:\n{tail}")
            time.sleep(0.5)
        yield engine
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if bridge_made:
            subprocess.run(["ip", "link", "del", bridge], capture_output=True, check=False)
        _unmount_below(root)
        shutil.rmtree(root, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous_handler)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(f"terminated by signal {signum}")


def _unmount_below(root: Path) -> None:
    """Mounts the engine may leave under its roots (overlay, shm) after an unclean stop; deepest first."""
    mounts = Path("/proc/mounts").read_text().splitlines()
    points = sorted(
        (line.split()[1] for line in mounts if line.split()[1].startswith(str(root))), reverse=True
    )
    for point in points:
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
