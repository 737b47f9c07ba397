"""Embedded mode: a real Prefect server on 127.0.0.1 (SQLite, telemetry off), left running for its UI.

The server runs detached from the tool (its own session), so the UI stays up after the tool exits; the next
run finds it through its pid file and health endpoint and reuses it. Its home (database, logs, pid) is
``data/prefect-server/`` in the repository (``data/`` is git-ignored) unless PIPELINES_LOCAL_PREFECT_HOME says
otherwise; the port is 4200 unless PIPELINES_LOCAL_PREFECT_PORT says otherwise.

Why not Prefect's own ``prefect server start --background`` / ``prefect server stop`` (read in the pinned
Prefect): the background server writes to pipes that nobody reads (no log to show when it fails to start, and
a full pipe can stall it); it stays in the caller's session, so the end of a CI step or a terminal can take it
down; the command returns before the server answers, and it refuses to start when its pid file exists instead
of reusing the healthy server; ``stop`` sends SIGTERM to one process and returns without waiting. This module
keeps a log file, detaches the server, waits for ``/api/health``, reuses a healthy server, and stops the whole
process group, waiting for it. The server itself is Prefect's (``python -m prefect server start``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HOME_ENV = "PIPELINES_LOCAL_PREFECT_HOME"
PORT_ENV = "PIPELINES_LOCAL_PREFECT_PORT"
DEFAULT_PORT = 4200
HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 120.0
# No outside connection from the server or the tool: no telemetry, no analytics.
OFFLINE_ENV = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


class LocalServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class LocalServer:
    home: Path
    port: int
    pid: int
    started_now: bool

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"


def default_home(repo: Path) -> Path:
    return Path(os.environ.get(HOME_ENV) or repo / "data" / "prefect-server").resolve()


def default_port() -> int:
    return int(os.environ.get(PORT_ENV) or DEFAULT_PORT)


def server_environment(home: Path) -> dict[str, str]:
    """Settings of the embedded server's process (its own PREFECT_HOME and SQLite database)."""
    return {
        **OFFLINE_ENV,
        "PREFECT_HOME": str(home / "home"),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_API_HOST": HOST,
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }


def ensure_local_server(home: Path, port: int) -> LocalServer:
    """The embedded server of ``home``: reused when it is up, else started (and waited for)."""
    home.mkdir(parents=True, exist_ok=True)
    pid_file = home / "server.pid"
    pid = _read_pid(pid_file)
    if pid is not None and _alive(pid) and is_healthy(f"http://{HOST}:{port}/api"):
        return LocalServer(home, port, pid, started_now=False)
    if _port_in_use(port):
        raise LocalServerError(
            f"port {port} on {HOST} is taken by another process: free it or pick another port with {PORT_ENV}"
        )
    log = (home / "server.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            HOST,
            "--port",
            str(port),
            "--analytics-off",
        ],
        env={**os.environ, **server_environment(home)},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    pid_file.write_text(f"{process.pid}\n")
    server = LocalServer(home, port, process.pid, started_now=True)
    wait_until_healthy(server.api_url, process, server.log_file)
    return server


def is_healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until_healthy(
    api_url: str, process: subprocess.Popen[bytes], log_file: Path, timeout: float = STARTUP_TIMEOUT_SECONDS
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-20:])
            raise LocalServerError(f"the Prefect server exited with code {process.returncode}:\n{tail}")
        if is_healthy(api_url):
            return
        time.sleep(0.25)
    raise LocalServerError(f"the Prefect server did not answer {api_url}/health within {timeout:.0f} s")


def stop_local_server(home: Path) -> bool:
    """Stops the embedded server of ``home`` (its whole process group); False if none was running."""
    pid_file = home / "server.pid"
    pid = _read_pid(pid_file)
    pid_file.unlink(missing_ok=True)
    if pid is None or not _alive(pid):
        return False
    os.killpg(pid, signal.SIGTERM)
    for _ in range(100):
        if not _alive(pid):
            return True
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)
    return True


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own exited child, not yet reaped) counts as dead.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (FileNotFoundError, IndexError):
        return True


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((HOST, port)) == 0
