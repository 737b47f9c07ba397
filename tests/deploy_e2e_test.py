"""The deploy tool end to end: a throwaway clone of the repository, one commit per scenario, the real CLI and
a real Prefect server (the tool's embedded one), read back through the Prefect client.

No Docker engine is given to the tool here (it registers the tags it would have built, as documented); the
real image build and run are in deploy_image_run_test.py. Each deployment's version is the image tag, i.e. the
commit it was registered from, which tells which deployments a scenario re-registered.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline_platform.local_server import stop_local_server
from repo_testing.deploy_support import (
    MINIMAL_PIPELINE,
    NO_DOCKER,
    Registered,
    add_minimal_pipeline,
    free_port,
    read_deployments,
    run_script,
)
from repo_testing.workspace import commit_all, copy_repo, git, pants

SMTR = "rj-smtr--gps-brt--staging"
COR = "rj-cor--alertario-precipitacao--staging"
DUMP = "rj-segovi--dump-db-1746--staging"
MINIMAL = "rj-teste--sem-lake--staging"
EVERY = {SMTR, COR, DUMP, MINIMAL}
IMAGES = {
    SMTR: "rj-smtr--gps-brt",
    COR: "rj-cor--alertario-precipitacao",
    DUMP: "rj-segovi--dump-db-1746",
    MINIMAL: "rj-teste--sem-lake",
}


@dataclass
class World:
    repo: Path
    home: Path
    port: int
    baseline: subprocess.CompletedProcess[str] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def env(self) -> dict[str, str]:
        return {
            "PIPELINES_LOCAL_PREFECT_HOME": str(self.home),
            "PIPELINES_LOCAL_PREFECT_PORT": str(self.port),
            "DOCKER_HOST": NO_DOCKER,
            "GITHUB_STEP_SUMMARY": "",
        }

    def deploy(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_script("deploy", self.repo, *args, env={**self.env, **(env or {})})

    def deployments(self) -> dict[str, Registered]:
        return read_deployments(self.api_url)

    def tag(self) -> str:
        return git(self.repo, "rev-parse", "--short", "HEAD").strip()


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-4000:]}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    add_minimal_pipeline(repo)
    world = World(repo, tmp_path_factory.mktemp("prefect-server"), free_port())
    try:
        world.baseline = world.deploy("--environment", "staging", "--all")
        yield world
    finally:
        stop_local_server(world.home)


def scenario(
    world: World, edit: Callable[[Path], None], message: str, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict[str, Registered], dict[str, Registered]]:
    before = world.deployments()
    edit(world.repo)
    commit_all(world.repo, message)
    result = world.deploy("--environment", "staging", "--changed-since", "HEAD~1", *args, env=env)
    return result, before, world.deployments()


def reregistered(before: dict[str, Registered], after: dict[str, Registered]) -> set[str]:
    return {
        name for name, item in after.items() if name not in before or before[name].version != item.version
    }


def append(relative: str, text: str = "\n# touched by the deploy e2e test\n") -> Callable[[Path], None]:
    def edit(repo: Path) -> None:
        path = repo / relative
        path.write_text(path.read_text() + text)

    return edit


def test_the_readme_command_starts_a_server_creates_the_pools_and_registers_every_deployment(
    world: World,
) -> None:
    assert world.baseline is not None
    assert world.baseline.returncode == 0, output(world.baseline)
    stdout = world.baseline.stdout
    assert "Started the embedded Prefect server at http://127.0.0.1:" in stdout
    assert "Work pools: default-pool created, datario-pool created" in stdout
    assert "no Docker engine reachable" in stdout and "NOT BUILT" in stdout
    assert f"Prefect UI: http://127.0.0.1:{world.port}" in stdout

    deployments = world.deployments()
    tag = world.tag()
    assert set(deployments) == EVERY
    for name, item in deployments.items():
        assert item.image == f"{IMAGES[name]}:{tag}"
        assert item.version == tag
        assert item.secret == "prefect-jobs-secrets-staging"
        assert item.pool == ("datario-pool" if name == DUMP else "default-pool")
        assert item.schedules and all(
            tz == "America/Sao_Paulo" and not active for _, tz, active in item.schedules
        )
    assert deployments[SMTR].schedules == (("* * * * *", "America/Sao_Paulo", False),)
    assert deployments[COR].schedules == (("*/15 * * * *", "America/Sao_Paulo", False),)


def test_a_pipeline_code_change_deploys_that_pipeline_only(world: World) -> None:
    result, before, after = scenario(world, append("pipelines/rj_smtr__gps_brt/tasks.py"), "smtr code")
    assert result.returncode == 0, output(result)

    assert reregistered(before, after) == {SMTR}
    assert after[SMTR].image == f"rj-smtr--gps-brt:{world.tag()}"
    assert after[SMTR].id == before[SMTR].id
    assert "pipelines/rj_smtr__gps_brt/tasks.py" in result.stdout


def test_a_shared_module_change_deploys_exactly_the_pipelines_importing_it(world: World) -> None:
    result, before, after = scenario(world, append("pipelines/common/http.py"), "shared http module")
    assert result.returncode == 0, output(result)

    assert reregistered(before, after) == {SMTR, COR}
    assert "pipelines/common/http.py" in result.stdout


def test_a_pin_change_deploys_the_pipelines_using_that_requirement(world: World) -> None:
    def bump_pyarrow(repo: Path) -> None:
        for path in (repo / "3rdparty/python/constraints.txt", repo / "3rdparty/python/pins/pyarrow.txt"):
            path.write_text(re.sub(r"^pyarrow==(\S+)$", r"pyarrow==\1.post1", path.read_text(), flags=re.M))

    # The bumped version does not exist: no lockfile can be derived, and the query needs none.
    try:
        result, before, after = scenario(
            world, bump_pyarrow, "bump pyarrow", env={"PANTS_LAUNCHER_SKIP_LOCKFILE": "1"}
        )
    finally:
        git(world.repo, "revert", "--no-edit", "HEAD")

    assert result.returncode == 0, output(result)
    assert reregistered(before, after) == {SMTR, COR, DUMP}  # not the pipeline without pyarrow
    assert "3rdparty/python:pyarrow#pyarrow" in result.stdout


def test_a_root_dockerfile_change_deploys_every_pipeline(world: World) -> None:
    result, before, after = scenario(world, append("Dockerfile", "\n# base image touched\n"), "base image")
    assert result.returncode == 0, output(result)

    assert reregistered(before, after) == EVERY


def test_a_prefect_yaml_change_reregisters_without_rebuilding_and_replaces_the_schedules(
    world: World,
) -> None:
    def two_schedules(repo: Path) -> None:
        path = repo / "pipelines/rj_cor__alertario_precipitacao/prefect.yaml"
        text = path.read_text()
        staging = text.index("--staging")
        old = '      - cron: "*/15 * * * *"\n        timezone: America/Sao_Paulo\n        active: false\n'
        new = (
            '      - cron: "0 * * * *"\n        timezone: America/Sao_Paulo\n        active: true\n'
            '      - cron: "30 6 * * 1-5"\n        timezone: America/Sao_Paulo\n        active: false\n'
        )
        path.write_text(text[:staging] + text[staging:].replace(old, new, 1))

    result, before, after = scenario(world, two_schedules, "cor schedules")
    assert result.returncode == 0, output(result)

    assert reregistered(before, after) == {COR}
    assert after[COR].image == before[COR].image  # the image its deployments already ran
    assert after[COR].schedules == (
        ("0 * * * *", "America/Sao_Paulo", True),
        ("30 6 * * 1-5", "America/Sao_Paulo", False),
    )
    assert "register only" in result.stdout


def test_a_docs_change_deploys_nothing_through_pants_run(world: World) -> None:
    before = world.deployments()
    (world.repo / "docs" / "deploy.md").write_text("# alterado\n")
    (world.repo / "README.md").write_text("alterado\n")
    commit_all(world.repo, "docs")

    result = pants(
        world.repo,
        "run",
        "tools/deploy_prefect_flows.py",
        "--",
        "--environment",
        "staging",
        "--changed-since",
        "HEAD~1",
        env=world.env,
    )

    assert result.returncode == 0, output(result)
    assert "no pipeline affected" in result.stdout
    assert "owned by no target" in result.stdout
    assert world.deployments() == before


def test_rerunning_is_idempotent(world: World) -> None:
    first = world.deploy("--environment", "staging", "--pipeline", "rj_cor__alertario_precipitacao")
    once = world.deployments()
    second = world.deploy("--environment", "staging", "--pipeline", "rj-cor--alertario-precipitacao")
    twice = world.deployments()

    assert first.returncode == second.returncode == 0, output(second)
    assert set(twice) == set(once) == EVERY
    assert {name: (item.id, item.schedules) for name, item in twice.items()} == {
        name: (item.id, item.schedules) for name, item in once.items()
    }


def test_a_malformed_prefect_yaml_stops_everything_and_leaves_the_server_untouched(world: World) -> None:
    path = world.repo / "pipelines/rj_cor__alertario_precipitacao/prefect.yaml"
    before = world.deployments()
    path.write_text(path.read_text().replace("job_variables:", "job_variable:", 1))
    try:
        result = world.deploy("--environment", "staging", "--pipeline", "rj_cor__alertario_precipitacao")
    finally:
        git(world.repo, "checkout", "--", str(path))

    assert result.returncode == 1, output(result)
    assert "pipelines/rj_cor__alertario_precipitacao/prefect.yaml" in result.stdout
    assert "unknown key 'job_variable' (did you mean 'job_variables'?)" in result.stdout
    assert "nothing was built or registered" in result.stdout
    assert world.deployments() == before


def test_prune_deletes_the_environments_deployments_no_prefect_yaml_declares(world: World) -> None:
    import asyncio

    from prefect.client.orchestration import PrefectClient

    async def add_strays() -> None:
        async with PrefectClient(world.api_url) as client:
            flow_id = await client.create_flow_from_name("rj_cor__alertario_precipitacao")
            for name in ("rj-cor--removida--staging", "rj-cor--removida--prod"):
                await client.create_deployment(flow_id=flow_id, name=name)

    asyncio.run(add_strays())
    result = world.deploy("--environment", "staging", "--pipeline", MINIMAL_PIPELINE, "--prune")

    assert result.returncode == 0, output(result)
    assert "rj_cor__alertario_precipitacao/rj-cor--removida--staging" in result.stdout
    assert set(world.deployments()) == EVERY | {"rj-cor--removida--prod"}


def test_the_plan_explains_each_pipeline_with_the_path_pants_reports(world: World, tmp_path: Path) -> None:
    graph_file = tmp_path / "graph.mmd"
    result = run_script(
        "affected",
        world.repo,
        "--files",
        "pipelines/common/http.py",
        "--environment",
        "staging",
        "--json",
        "--graph",
        "mermaid",
        "--output",
        str(graph_file),
    )
    assert result.returncode == 0, output(result)
    plan = {item["pipeline"]: item for item in json.loads(result.stdout)["pipelines"]}

    assert set(plan) == {"rj_cor__alertario_precipitacao", "rj_smtr__gps_brt"}
    cor = plan["rj_cor__alertario_precipitacao"]
    assert cor["action"] == "build_and_register" and cor["deployments"] == [COR]
    assert cor["path"][0] == "pipelines/common/http.py"
    assert cor["path"][-1] == "pipelines/rj_cor__alertario_precipitacao:image"

    paths = pants(
        world.repo,
        "paths",
        "--paths-from=pipelines/rj_cor__alertario_precipitacao:image",
        "--paths-to=pipelines/common/http.py",
        env={"PANTS_LAUNCHER_SKIP_LOCKFILE": "1"},
    )
    assert paths.returncode == 0, paths.stderr
    reported = json.loads(paths.stdout)
    assert list(reversed(cor["path"])) in reported
    assert len(cor["path"]) == min(len(path) for path in reported)

    mermaid = graph_file.read_text()
    assert mermaid.startswith("flowchart LR")
    assert "class pipeline_rj_cor__alertario_precipitacao,pipeline_rj_smtr__gps_brt rebuild" in mermaid
    assert "class common_http changed" in mermaid
    # The dump pipeline reaches the database module through the generic dump.
    assert "pipeline_rj_segovi__dump_db_1746 --> common_dump" in mermaid
    assert "common_dump --> common_db" in mermaid
    assert "base_image --> req_prefect" in mermaid
