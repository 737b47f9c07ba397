"""The workflows run as a fresh GitHub runner runs them (repo_testing/workflow_runner.py), on a clone: the PR
checks on a one-pipeline change and on a shared-module change, and the staging deploy against a registry and a
Prefect server on 127.0.0.1. A step that cannot pass on GitHub fails here.

Stand-ins: the runner's HOME is empty (so are the caches the pants-setup action restores into it), but Pants
and the launcher keep this machine's cache root (XDG_CACHE_HOME), as a restored cache would give them.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import PrefectClient

from pipeline_platform.local_server import ensure_local_server, stop_local_server
from pipeline_platform.pools import apply_pools, load_pool_templates
from pipeline_platform.repo_root import find_repo_root
from repo_testing.ci import skip_or_fail
from repo_testing.deploy_support import free_port, read_deployments
from repo_testing.registry import RegistryUnavailable, local_registry
from repo_testing.workflow_runner import JobResult, JobRunner
from repo_testing.workspace import commit_all, copy_repo, git

PIPELINE = "pipelines/rj_smtr__gps_brt"
REGISTRY_LOGIN = "any"
# What the outer run set up; a fresh runner has none of it.
_NOT_ON_A_FRESH_RUNNER = (
    "PIPELINES_TEST_POSTGRES_URL",
    "PIPELINES_TEST_MARIADB_URL",
    "OS_IMAGE",
    "PIPELINES_REPO_ROOT",
    "PANTS_CONFIG_FILES",
    "PIPELINES_TEMPLATES_DIGEST",
    "PREFECT_HOME",
    "PREFECT_API_URL",
    "IMAGE_TAG",
)


def runner_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _NOT_ON_A_FRESH_RUNNER}
    env["XDG_CACHE_HOME"] = os.environ.get("XDG_CACHE_HOME") or str(Path(os.environ["HOME"]) / ".cache")
    env["HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    return env


def pull_request(tmp_path: Path, change: str) -> tuple[Path, JobResult]:
    repo = copy_repo(tmp_path / "clone")
    git(repo, "update-ref", "refs/remotes/origin/master", "HEAD")
    changed = repo / change
    changed.write_text(changed.read_text() + "\n\n# changed by the workflow run test\n")
    commit_all(repo, "a pull request")
    contexts: dict[str, Any] = {
        "github": {"base_ref": "master", "sha": git(repo, "rev-parse", "HEAD").strip(), "event": {}},
        "vars": {},
        "secrets": {},
    }
    runner = JobRunner(repo, contexts, env=runner_env(tmp_path / "home"))
    result = runner.run_job(repo / ".github/workflows/pr-checks.yaml", "checks")
    print(result.timings())
    return repo, result


def targets_run(result: JobResult) -> set[str]:
    """The test targets the job ran (Pants's `✓ <target> succeeded` lines)."""
    return {
        line.split()[1]
        for step in result.steps
        for line in step.output.splitlines()
        if line.startswith(("✓ ", "✕ ")) and "_test.py" in line
    }


def test_pr_checks_on_a_one_pipeline_change_run_its_tests_and_no_platform_e2e(tmp_path: Path) -> None:
    _, result = pull_request(tmp_path, f"{PIPELINE}/tasks.py")

    assert result.ok, result.log()
    assert "::" not in result.outputs["scope"]["fast"], "a full run"
    ran = targets_run(result)
    assert f"{PIPELINE}/image_test.py:tests" in ran, result.log()
    assert not {
        target for target in ran if target.startswith(("tests/", "pipelines/rj_segovi", "pipelines/rj_cor"))
    }


def test_pr_checks_on_a_shared_module_change_run_the_dumps_with_mariadb(tmp_path: Path) -> None:
    repo, result = pull_request(tmp_path, "pipelines/common/dump.py")

    assert result.ok, result.log()
    ran = targets_run(result)
    assert "pipelines/common/dump_test.py:tests" in ran, result.log()
    # Of tests/, only the tests of the shared library run (not those of the platform, this one included).
    platform_tests = {
        target
        for target in ran
        if target.startswith("tests/") and "pipelines.common" not in (repo / target.split(":")[0]).read_text()
    }
    assert not platform_tests, result.log()


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[str]:
    """A staging server as the city has it: its work pools applied (by the prod workflow, from master), since
    the staging workflow never changes them (docs/deploy.md)."""
    home = tmp_path / "prefect"
    server = ensure_local_server(home, free_port())
    try:
        asyncio.run(_apply_pools(server.api_url))
        yield server.api_url
    finally:
        stop_local_server(home)


async def _apply_pools(api_url: str) -> None:
    async with PrefectClient(api_url) as client:
        await apply_pools(client, load_pool_templates(find_repo_root()))


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "registry").mkdir()
    try:
        with local_registry(tmp_path / "registry", free_port()) as address:
            yield address
    except RegistryUnavailable as error:
        skip_or_fail(str(error))


def test_the_staging_deploy_pushes_the_changed_pipeline_and_registers_it(
    tmp_path: Path, prefect_server: str, registry: str
) -> None:
    repo = copy_repo(tmp_path / "clone")
    before = git(repo, "rev-parse", "HEAD").strip()
    tasks = repo / PIPELINE / "tasks.py"
    tasks.write_text(tasks.read_text() + "\n\n# changed by the workflow run test\n")
    commit_all(repo, "a staging push")
    tag = git(repo, "rev-parse", "--short", "HEAD").strip()
    contexts: dict[str, Any] = {
        "github": {"event": {"before": before}, "ref_name": "staging/test", "sha": tag},
        "vars": {"PIPELINES_IMAGE_REGISTRY": f"{registry}/rio"},
        "secrets": {
            "PREFECT_API_URL": prefect_server,
            "PREFECT_API_KEY": "",
            # The test registry has no authentication: docker login succeeds with any user.
            "REGISTRY_USERNAME": "ci",
            "REGISTRY_PASSWORD": REGISTRY_LOGIN,
        },
    }
    runner = JobRunner(repo, contexts, env=runner_env(tmp_path / "home"))

    result = runner.run_job(repo / ".github/workflows/deploy-prefect-flows-staging.yaml", "deploy")
    print(result.timings())

    assert result.ok, result.log()
    registered = read_deployments(prefect_server)
    assert registered["rj-smtr--gps-brt--staging"].image == f"{registry}/rio/rj-smtr--gps-brt:{tag}"
    tags = httpx.get(f"http://{registry}/v2/rio/rj-smtr--gps-brt/tags/list").json()["tags"]
    assert tag in tags
    # A runner: what the base and deps builds left is deleted before the images are built (--free-disk).
    assert re.search(
        r"Disk freed for the image builds: build stages pruned \(base: ", result.log()
    ), result.log()
