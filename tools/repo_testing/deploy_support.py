"""Helpers of the deploy tool's end-to-end tests: run the real CLIs, read the real server, cut the network."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import affected_pipelines
import deploy_prefect_flows
import work_pools
from prefect.client.orchestration import PrefectClient

from repo_testing.tcp_relay import TcpRelay
from repo_testing.workspace import commit_all

# Not a socket: the tool finds no Docker engine and registers the tags it would have built.
NO_DOCKER = "unix:///nonexistent/docker.sock"
MINIMAL_PIPELINE = "rj_teste__sem_lake"
SCRIPTS = {
    "deploy": deploy_prefect_flows.__file__,
    "affected": affected_pipelines.__file__,
    "work_pools": work_pools.__file__,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_script(
    name: str, repo: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Runs one of the CLIs as its own process (fresh settings, real exit code), from ``repo``'s root."""
    # A job summary of the CI run itself is not for the tool under test.
    environment = {key: value for key, value in os.environ.items() if key != "GITHUB_STEP_SUMMARY"}
    environment.update(
        PIPELINES_REPO_ROOT=str(repo),
        # This test's modules and their requirements, as the test process sees them.
        PYTHONPATH=os.pathsep.join(sys.path),
        # Wide enough for the plan's dependency paths to stay on one line.
        COLUMNS="400",
    )
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, SCRIPTS[name], *args],
        cwd=repo,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def add_minimal_pipeline(repo: Path) -> None:
    """A fourth pipeline that uses only Prefect (no pyarrow, no shared module), committed."""
    source = repo / "pipelines" / "rj_smtr__gps_brt"
    target = repo / "pipelines" / MINIMAL_PIPELINE
    target.mkdir()
    (target / "__init__.py").write_text("")
    (target / "BUILD").write_text("prefect_pipeline()\n")
    # The macro gives image_test.py the built image; this pipeline's test never runs here.
    (target / "image_test.py").write_text("def test_placeholder() -> None:\n    assert True\n")
    (target / "Dockerfile").write_text(
        (source / "Dockerfile").read_text().replace("rj_smtr__gps_brt", MINIMAL_PIPELINE)
    )
    (target / "flow.py").write_text(
        '"""A pipeline with no third-party dependency but Prefect."""\n\n'
        "from __future__ import annotations\n\n"
        "from prefect import flow\n\n\n"
        f'@flow(name="{MINIMAL_PIPELINE}")\n'
        f'def {MINIMAL_PIPELINE}(greeting: str = "olá") -> str:\n'
        "    return greeting\n"
    )
    yaml_text = (source / "prefect.yaml").read_text()
    renames = (
        ("rj_smtr__gps_brt", MINIMAL_PIPELINE),
        ("rj-smtr--gps-brt", "rj-teste--sem-lake"),
        # This flow reads no source: its deployments pass its own parameter instead of the capture's.
        ("api_credentials: SMTR_BRT_GPS", "greeting: olá"),
    )
    for old, new in renames:
        yaml_text = yaml_text.replace(old, new)
    (target / "prefect.yaml").write_text(yaml_text)
    commit_all(repo, "a minimal pipeline")


@dataclass(frozen=True)
class Registered:
    id: str
    version: str | None
    image: str | None
    secret: str | None
    pool: str | None
    schedules: tuple[tuple[str, str, bool], ...]
    parameters: dict[str, Any]
    description: str | None
    updated: str


def read_deployments(api_url: str) -> dict[str, Registered]:
    """Every deployment on the server by name, as the Prefect client reads it back."""

    async def read() -> dict[str, Registered]:
        async with PrefectClient(api_url) as client:
            found = await client.read_deployments()
        return {
            item.name: Registered(
                id=str(item.id),
                version=item.version,
                image=(item.job_variables or {}).get("image"),
                secret=(item.job_variables or {}).get("secretName"),
                pool=item.work_pool_name,
                schedules=tuple(
                    sorted(
                        (
                            str(getattr(schedule.schedule, "cron", schedule.schedule)),
                            str(getattr(schedule.schedule, "timezone", "")),
                            schedule.active,
                        )
                        for schedule in item.schedules
                    )
                ),
                parameters=dict(item.parameters),
                description=item.description,
                updated=str(item.updated),
            )
            for item in found
        }

    return asyncio.run(read())


class KillingProxy(TcpRelay):
    """A TCP relay on 127.0.0.1 in front of a Prefect server that calls ``on_trigger`` (e.g. kills the server)
    when the ``trigger_at``-th ``POST /api/deployments/`` arrives, and drops that request.

    Nothing is simulated: the client talks HTTP to the real server through it, and after the trigger it meets
    real connection errors until ``backend_port`` points at a live server again.
    """

    MARKER = b"POST /api/deployments/ HTTP"

    def __init__(self, backend_port: int, trigger_at: int, on_trigger: Callable[[], None]) -> None:
        self.trigger_at = trigger_at
        self.on_trigger = on_trigger
        self.seen = 0
        self._lock = threading.Lock()
        super().__init__(backend_port)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def on_chunk(self, data: bytes, upstream: bool) -> bool:
        if upstream and self.MARKER in data:
            with self._lock:
                self.seen += data.count(self.MARKER)
                fire = self.seen == self.trigger_at
            if fire:
                self.on_trigger()
                return False
        return True


@dataclass
class Fault:
    """``times`` requests whose request line matches ``pattern`` get ``kind``: "503" (the answer a Prefect
    server gives when its database is locked) or "reset" (the connection closed, nothing relayed)."""

    pattern: str
    kind: str
    times: int
    injected: int = 0


BUSY_SERVER_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 43\r\n"
    b"connection: close\r\n\r\n"
    b'{"exception_message":"Service Unavailable"}'
)


class FaultyApiRelay(TcpRelay):
    """A TCP relay on 127.0.0.1 in front of a real Prefect server that fails the requests of ``faults``;
    every other byte goes to the real server and back."""

    def __init__(self, backend_port: int, faults: list[Fault]) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        super().__init__(backend_port)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def _fault_for(self, data: bytes) -> Fault | None:
        request_line = data.split(b"\r\n", 1)[0].decode("latin-1")
        with self._lock:
            for fault in self.faults:
                if fault.injected < fault.times and re.match(fault.pattern, request_line):
                    fault.injected += 1
                    return fault
        return None

    def reply(self, data: bytes) -> bytes | None:
        fault = self._fault_for(data) if data[:1].isalpha() else None
        if fault is not None and fault.kind == "503":
            return BUSY_SERVER_ANSWER
        if fault is not None:
            return b""
        return None
