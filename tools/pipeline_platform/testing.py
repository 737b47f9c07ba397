"""A small, valid pipeline written to disk, for tests of the platform (not of the real pipelines)."""

from __future__ import annotations

import asyncio
import copy
import shutil
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import yaml
from prefect.client.orchestration import PrefectClient, get_client

from pipeline_platform.pools import POOLS_DIR

T = TypeVar("T")
PIPELINE = "rj_teste__exemplo"
IMAGE = "rj-teste--exemplo"
FLOW_SOURCE = '''"""A flow for the platform's tests."""

from prefect import flow


@flow(name="rj_teste__exemplo")
def rj_teste__exemplo(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    """Pretends to dump ``table``."""
    return batch_size


def not_a_flow(table: str) -> None:
    """A plain function."""
'''


def deployment(environment: str, **changes: Any) -> dict[str, Any]:
    secret = "prefect-jobs-secrets" if environment == "prod" else "prefect-jobs-secrets-staging"
    spec: dict[str, Any] = {
        "name": f"{IMAGE}--{environment}",
        "description": "Exemplo.",
        "entrypoint": f"pipelines/{PIPELINE}/flow.py:{PIPELINE}",
        "tags": ["teste", environment],
        "parameters": {"table": "chamado"},
        "schedules": [
            {"cron": "0 3 * * *", "timezone": "America/Sao_Paulo", "active": environment == "prod"},
            {
                "cron": "30 12 * * 1-5",
                "timezone": "America/Sao_Paulo",
                "active": environment == "prod",
                "parameters": {"batch_size": 50},
            },
        ],
        "work_pool": {
            "name": "datario-pool",
            "job_variables": {
                "image": f"{IMAGE}:{{{{ $IMAGE_TAG }}}}",
                "secretName": secret,
                "image_pull_policy": "Always",
            },
        },
    }
    spec.update(changes)
    return spec


def prefect_yaml(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": PIPELINE,
        "prefect-version": "3.9.1",
        "build": None,
        "push": None,
        "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": "/opt/prefect"}}],
        "deployments": [deployment("prod"), deployment("staging")],
    }
    document.update(changes)
    return copy.deepcopy(document)


def write_pipeline(
    repo: Path, document: dict[str, Any] | str | None = None, templates: Path | None = None
) -> Path:
    """``repo/pipelines/rj_teste__exemplo`` with flow.py and prefect.yaml; the work pool templates beside."""
    directory = repo / "pipelines" / PIPELINE
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "flow.py").write_text(FLOW_SOURCE)
    text = (
        document if isinstance(document, str) else yaml.safe_dump(document or prefect_yaml(), sort_keys=False)
    )
    (directory / "prefect.yaml").write_text(text)
    if templates is not None and not (repo / POOLS_DIR).exists():
        shutil.copytree(templates, repo / POOLS_DIR)
    return directory


def run_with_client(make: Callable[[PrefectClient], Coroutine[Any, Any, T]]) -> T:
    """``make(client)`` run to completion with a client of the current Prefect API (the test server)."""

    async def with_client() -> T:
        async with get_client() as client:
            return await make(client)

    return asyncio.run(with_client())
