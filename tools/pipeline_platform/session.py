"""The Prefect server a command talks to, and its one client session.

The server is ``PREFECT_API_URL`` when set, else the embedded local server (local_server.py). A command opens
one session: one client, with the client's own retries off, because the callers retry transient errors with
their own policy (register.RetryPolicy) and two layers of retries would multiply the waits.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from prefect.client.orchestration import PrefectClient, get_client
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_CLIENT_MAX_RETRIES,
    get_current_settings,
    temporary_settings,
)

from pipeline_platform import local_server


@dataclass(frozen=True)
class Server:
    api_url: str
    embedded: bool
    started_now: bool = False
    home: Path | None = None  # the embedded server's home (database, logs, pid file)

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")


def configured_api_url() -> str | None:
    configured = get_current_settings().api.url
    return str(configured) if configured else None


def embedded_api_url() -> str:
    """The embedded server's address (whether or not it runs)."""
    return f"http://{local_server.HOST}:{local_server.default_port()}/api"


def ensure_server(repo: Path) -> Server:
    """``PREFECT_API_URL``, else the embedded server of ``repo``, started or reused."""
    configured = configured_api_url()
    if configured is not None:
        return Server(configured, embedded=False)
    server = local_server.ensure_local_server(local_server.default_home(repo), local_server.default_port())
    return Server(server.api_url, embedded=True, started_now=server.started_now, home=server.home)


@contextlib.asynccontextmanager
async def session(api_url: str) -> AsyncIterator[PrefectClient]:
    """One Prefect client on ``api_url``, without the client's own retries."""
    with temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_CLIENT_MAX_RETRIES: 0}):
        async with get_client() as client:
            yield client
