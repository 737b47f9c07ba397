"""The deploy tool when things break: a pipeline the server rejects, and the server killed mid-deploy.

A real Prefect server (started like the embedded one, but owned by the test) sits behind a TCP relay that
kills it when the second deployment upsert arrives; the tool talks to the relay as its PREFECT_API_URL.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from prefect.client.orchestration import PrefectClient

from pipeline_platform.image_refs import ImageResult, ImageStatus
from pipeline_platform.local_server import LocalServer, ensure_local_server, stop_local_server
from pipeline_platform.register import register_pipeline
from pipeline_platform.repo import pipeline_dirs
from pipeline_platform.retries import RetryPolicy
from pipeline_platform.spec import PipelineSpec, load_pipeline
from repo_testing.deploy_support import (
    NO_DOCKER,
    KillingProxy,
    add_minimal_pipeline,
    free_port,
    read_deployments,
    run_script,
)
from repo_testing.workspace import commit_all, copy_repo

ORDER = [
    "rj_cor__alertario_precipitacao",
    "rj_segovi__dump_db_1746",
    "rj_smtr__gps_brt",
    "rj_teste__sem_lake",
]
STAGING = {
    "rj_cor__alertario_precipitacao": "rj-cor--alertario-precipitacao--staging",
    "rj_segovi__dump_db_1746": "rj-segovi--dump-db-1746--staging",
    "rj_smtr__gps_brt": "rj-smtr--gps-brt--staging",
    "rj_teste__sem_lake": "rj-teste--sem-lake--staging",
}


@dataclass
class Setup:
    repo: Path
    home: Path
    server: LocalServer
    summary: Path

    def restart(self) -> None:
        self.server = ensure_local_server(self.home, free_port())

    def kill(self) -> None:
        os.killpg(self.server.pid, signal.SIGKILL)

    def descriptions(self) -> dict[str, str | None]:
        found = read_deployments(self.server.api_url)
        return {pipeline: found[name].description for pipeline, name in STAGING.items() if name in found}

    def deploy(self, api_url: str, **retry: str) -> subprocess.CompletedProcess[str]:
        self.summary.write_text("")
        env = {
            "PREFECT_API_URL": api_url,
            "DOCKER_HOST": NO_DOCKER,
            "GITHUB_STEP_SUMMARY": str(self.summary),
            **{f"PIPELINES_DEPLOY_RETRY_{key.upper()}": value for key, value in retry.items()},
        }
        return run_script(
            "deploy", self.repo, "--environment", "staging", "--changed-since", "HEAD~1", env=env
        )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-4000:]}"


def row(summary: str, pipeline: str) -> str:
    """The Markdown row of ``pipeline`` in the job summary's deploy table (after the plan's)."""
    table = summary[summary.index("### Deploy to") :]
    return next(line for line in table.splitlines() if line.startswith(f"| {pipeline} |"))


def registered(row_text: str) -> bool:
    """Whether a deploy-table row says "ok", retried attempts included (a busy server may answer 503)."""
    result = row_text.rstrip(" |").rsplit("| ", 1)[-1]
    return re.fullmatch(r"ok( \(\d+ retried attempt\(s\)\))?", result) is not None


def new_descriptions(repo: Path, label: str) -> None:
    """A prefect.yaml-only change in every pipeline: each is re-registered with the image it has."""
    for directory in pipeline_dirs(repo):
        path = directory / "prefect.yaml"
        path.write_text(
            re.sub(r"^(\s+description: )(\(v\d\) )?", rf"\1({label}) ", path.read_text(), flags=re.M)
        )
    commit_all(repo, f"descriptions {label}")


def seed(repo: Path, api_url: str) -> None:
    """A previous deploy: every staging deployment registered with an image (the dump in default-pool)."""

    async def register_all() -> None:
        async with PrefectClient(api_url) as client:
            for directory in pipeline_dirs(repo):
                spec = load_pipeline(directory)
                if directory.name == "rj_segovi__dump_db_1746":
                    moved = tuple(replace(item, work_pool="default-pool") for item in spec.deployments)
                    spec = PipelineSpec(spec.pipeline, spec.directory, moved)
                image = ImageResult(spec.pipeline, f"{spec.pipeline.image_name}:seed", ImageStatus.KEPT)
                outcome = await register_pipeline(client, spec, "staging", image, "seed", RetryPolicy())
                assert outcome.ok, outcome

    asyncio.run(register_all())


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    add_minimal_pipeline(repo)
    home = tmp_path_factory.mktemp("prefect-server")
    state = Setup(
        repo, home, ensure_local_server(home, free_port()), tmp_path_factory.mktemp("gh") / "summary.md"
    )
    try:
        pools = run_script(
            "work_pools", repo, "--pool", "default-pool", env={"PREFECT_API_URL": state.server.api_url}
        )
        assert pools.returncode == 0, output(pools)
        assert "default-pool: created" in pools.stdout
        seed(repo, state.server.api_url)
        yield state
    finally:
        stop_local_server(home)


def test_a_pipeline_the_server_rejects_fails_alone(setup: Setup) -> None:
    new_descriptions(setup.repo, "v2")

    result = setup.deploy(setup.server.api_url)

    assert result.returncode == 1, output(result)
    # datario-pool does not exist on this server: a 404, not retried, and the others go on. (A busy machine's
    # just-started server may answer another deployment with a 503, which is retried, as it should be.)
    retried_404 = re.search(r"dump-db-1746--staging: attempt \d+ failed \(HTTP 404", result.stdout)
    assert retried_404 is None, output(result)
    summary = setup.summary.read_text()
    assert "### Deploy to staging" in summary
    failed = row(summary, "rj_segovi__dump_db_1746")
    assert "FAILED (0/1 registered)" in failed and "datario-pool" in failed and "work_pools.py" in failed
    ok = [pipeline for pipeline in ORDER if pipeline != "rj_segovi__dump_db_1746"]
    assert all(registered(row(summary, pipeline)) for pipeline in ok), summary
    descriptions = setup.descriptions()
    for pipeline in ORDER:
        assert (descriptions[pipeline] or "").startswith("(v2)") == (pipeline != "rj_segovi__dump_db_1746")


def test_a_server_killed_mid_deploy_is_retried_until_it_is_back(setup: Setup) -> None:
    pools = run_script("work_pools", setup.repo, env={"PREFECT_API_URL": setup.server.api_url})
    assert "datario-pool: created" in pools.stdout and "default-pool: unchanged" in pools.stdout, output(
        pools
    )
    new_descriptions(setup.repo, "v3")

    def kill_and_restart() -> None:
        setup.kill()

        def restart() -> None:
            time.sleep(1.0)
            setup.restart()
            proxy.backend_port = setup.server.port

        threading.Thread(target=restart, daemon=True).start()

    proxy = KillingProxy(setup.server.port, trigger_at=2, on_trigger=kill_and_restart)
    # Enough retries to outlast a Prefect server restart on a busy machine.
    try:
        result = setup.deploy(proxy.api_url, attempts="40", initial_seconds="0.5", max_seconds="2")
    finally:
        proxy.close()

    assert result.returncode == 0, output(result)
    assert proxy.seen >= 2
    assert re.search(r"rj-segovi--dump-db-1746--staging: attempt 1 failed \(API unreachable", result.stdout)
    assert "retried attempt(s)" in row(setup.summary.read_text(), "rj_segovi__dump_db_1746")
    assert all((text or "").startswith("(v3)") for text in setup.descriptions().values())
    assert read_deployments(setup.server.api_url)["rj-segovi--dump-db-1746--staging"].pool == "datario-pool"


def test_a_server_that_stays_down_fails_the_rest_with_a_summary(setup: Setup) -> None:
    new_descriptions(setup.repo, "v4")
    proxy = KillingProxy(setup.server.port, trigger_at=2, on_trigger=setup.kill)
    try:
        result = setup.deploy(proxy.api_url, attempts="3", initial_seconds="0.2", max_seconds="0.5")
    finally:
        proxy.close()

    assert result.returncode == 1, output(result)
    summary = setup.summary.read_text()
    assert registered(row(summary, ORDER[0])), summary
    for pipeline in ORDER[1:]:
        assert "FAILED (0/1 registered)" in row(summary, pipeline) and "API unreachable" in row(
            summary, pipeline
        )
    assert "1 pipeline(s) ok, 3 failed" in summary
    assert result.stdout.count("attempt 2 failed (API unreachable") == 3  # 3 attempts each, 2 retries logged

    setup.restart()
    descriptions = setup.descriptions()
    assert (descriptions["rj_cor__alertario_precipitacao"] or "").startswith("(v4)")
    assert all((descriptions[pipeline] or "").startswith("(v3)") for pipeline in ORDER[1:])
