"""The GitHub Actions workflows and actions: valid for GitHub's schema, and wired to the deploy tool."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline_platform.repo_root import find_repo_root

GITHUB = find_repo_root() / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yaml"))
ACTIONS = sorted((GITHUB / "actions").glob("**/action.yaml"))
# Two Pants starts per deploy (the outer run and the tool's own daemon): no workflow deploys this way.
PANTS_RUN_DEPLOY = "./pants run tools/deploy_prefect_flows.py"
# What the deploy workflows run: the same tool with one Pants start (deploy_prefect_flows.sh, docs/deploy.md).
LAUNCHER = "tools/deploy_prefect_flows.sh"
# Any platform tool with one Pants start (the deploy launcher is this with the deploy tool).
TOOL_LAUNCHER = "tools/run_tool.sh"
PANTS_SETUP = GITHUB / "actions" / "pants-setup" / "action.yaml"
# Pants's local store, where the fresh-runner benchmark also restores it (tools/benchmarks).
LOCAL_STORE = "~/.cache/pants/lmdb_store"


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with a schema bundled in the package (no network)."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )


def load(name: str) -> dict[Any, Any]:
    document = yaml.safe_load((GITHUB / "workflows" / name).read_text())
    assert isinstance(document, dict)
    return document


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_the_workflows_and_actions_are_valid_for_github() -> None:
    assert {path.name for path in WORKFLOWS} >= {
        "pr-checks.yaml",
        "deploy-prefect-flows-prod.yaml",
        "deploy-prefect-flows-staging.yaml",
        "build-and-push-root-dockerfile.yaml",
    }
    workflows = check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert workflows.returncode == 0, workflows.stdout + workflows.stderr
    actions = check_jsonschema("vendor.github-actions", *ACTIONS)
    assert actions.returncode == 0, actions.stdout + actions.stderr


def test_the_schema_check_catches_a_typo(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text((GITHUB / "workflows" / "pr-checks.yaml").read_text().replace("runs-on:", "runz-on:"))

    result = check_jsonschema("vendor.github-workflows", broken)

    assert result.returncode != 0
    assert "runz-on" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "environment", "command"),
    [
        ("deploy-prefect-flows-prod.yaml", "prod", LAUNCHER),
        ("deploy-prefect-flows-staging.yaml", "staging", LAUNCHER),
        ("build-and-push-root-dockerfile.yaml", "prod", LAUNCHER),
    ],
)
def test_deploy_workflows_run_the_deploy_tool_with_full_history(
    name: str, environment: str, command: str
) -> None:
    workflow = load(name)
    all_steps = steps(workflow)
    checkout = next(step for step in all_steps if str(step.get("uses", "")).startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    assert any(step.get("uses") == "./.github/actions/pants-setup" for step in all_steps)
    deploy = next(step for step in all_steps if step.get("run") == command)
    assert deploy["env"]["PIPELINES_DEPLOY_ENVIRONMENT"] == environment
    assert deploy["env"]["PIPELINES_DEPLOY_CHANGED_SINCE"] == "${{ github.event.before }}"
    assert workflow["env"]["PANTS_CONFIG_FILES"] == "pants.ci.toml"


def pants_setup() -> dict[str, Any]:
    action = yaml.safe_load(PANTS_SETUP.read_text())
    assert isinstance(action, dict)
    return action


def pants_setup_steps() -> list[dict[str, Any]]:
    return list(pants_setup()["runs"]["steps"])


def run_the_bound_step(home: Path, max_bytes: str) -> subprocess.CompletedProcess[str]:
    """The pants-setup step that bounds the restored local store, run as the runner runs it."""
    step = next(step for step in pants_setup_steps() if "bound-pants-local-store.sh" in step.get("run", ""))
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "LOCAL_STORE_MAX_BYTES": max_bytes}
    return subprocess.run(
        ["bash", "-c", step["run"]], cwd=GITHUB.parent, env=env, capture_output=True, text=True, check=False
    )


def test_every_job_gets_pants_through_the_setup_action() -> None:
    for path in WORKFLOWS:
        for name, job in load(path.name)["jobs"].items():
            runs = " ".join(str(step.get("run", "")) for step in job["steps"])
            if "./pants" in runs or LAUNCHER in runs:
                uses = [step.get("uses") for step in job["steps"]]
                assert "./.github/actions/pants-setup" in uses, f"{path.name}: job {name}"


def test_the_setup_action_restores_the_local_store_of_the_newest_commit_and_bounds_it() -> None:
    all_steps = pants_setup_steps()
    caching = next(i for i, step in enumerate(all_steps) if step.get("with", {}).get("path") == LOCAL_STORE)
    cache = all_steps[caching]
    key = cache["with"]["key"]
    restore_keys = cache["with"]["restore-keys"].splitlines()
    assert cache["uses"] == "actions/cache@v4"
    assert key.startswith("pants-lmdb-store-${{ runner.os }}-${{ hashFiles('pants.toml', ")
    assert "3rdparty/python/pins/*.txt" in key
    assert key.endswith("-${{ github.sha }}")
    # The same pins first, then any store of this OS.
    assert restore_keys == [key.removesuffix("${{ github.sha }}"), "pants-lmdb-store-${{ runner.os }}-"]
    bounding = next(
        i for i, step in enumerate(all_steps) if "bound-pants-local-store.sh" in step.get("run", "")
    )
    bootstrap = next(i for i, step in enumerate(all_steps) if step.get("run", "").startswith("./pants"))
    assert caching < bounding < bootstrap  # the restored store is bounded before any Pants runs
    assert all_steps[bounding]["env"] == {"LOCAL_STORE_MAX_BYTES": "${{ inputs.local-store-max-bytes }}"}


@pytest.mark.parametrize(("cap", "kept"), [(None, True), (100_000, True), (40_000, False)])
def test_the_bound_step_removes_a_restored_store_above_the_cap(
    tmp_path: Path, cap: int | None, kept: bool
) -> None:
    default = pants_setup()["inputs"]["local-store-max-bytes"]["default"]
    assert int(default) == 1_000_000_000
    store = tmp_path / LOCAL_STORE.removeprefix("~/")
    (store / "files" / "0").mkdir(parents=True)
    # 50 kB of data and three directories (~4 kB each to `du -sb`).
    (store / "files" / "0" / "data.mdb").write_bytes(b"\0" * 50_000)

    result = run_the_bound_step(tmp_path, str(cap or default))

    assert result.returncode == 0, result.stdout + result.stderr
    assert store.is_dir() is kept
    assert ("removed" in result.stdout) is not kept


def test_the_bound_step_refuses_a_cap_that_is_not_bytes(tmp_path: Path) -> None:
    result = run_the_bound_step(tmp_path, "1GB")

    assert result.returncode == 2
    assert "whole number of bytes" in result.stderr


def test_no_workflow_deploys_through_pants_run() -> None:
    for path in WORKFLOWS:
        assert (
            PANTS_RUN_DEPLOY not in path.read_text()
        ), f"{path.name}: deploy with {LAUNCHER} (one Pants start)"


def test_the_prod_deploy_can_be_forced_for_all_or_one_pipeline() -> None:
    workflow = load("deploy-prefect-flows-prod.yaml")
    trigger = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert trigger["push"]["branches"] == ["master"]
    assert set(trigger["workflow_dispatch"]["inputs"]) == {"force_deploy", "pipeline"}
    deploy = next(step for step in steps(workflow) if step.get("run") == LAUNCHER)
    assert deploy["env"]["PIPELINES_DEPLOY_ALL"] == "${{ inputs.force_deploy }}"
    assert deploy["env"]["PIPELINES_DEPLOY_PIPELINE"] == "${{ inputs.pipeline }}"


def test_pr_checks_scope_lint_tests_and_images_with_pants() -> None:
    workflow = load("pr-checks.yaml")
    scope = next(step for step in steps(workflow) if step.get("id") == "scope")["run"]
    assert "--changed-since=${BASE} lint" in scope
    assert '--changed-since="${BASE}" --changed-dependents=transitive list' in scope
    assert "build-support/ci/drop-target-generators.awk" in scope
    for tag in ("-e2e", "e2e"):
        assert f"--tag={tag} --spec-files=dist/scope/targets.txt check test" in scope
        assert f"--tag={tag} check test ::" in scope
    assert (
        "--filter-target-type=docker_image --changed-since=${BASE} --changed-dependents=transitive package"
        in scope
    )
    pattern = re.search(r"grep -qE '([^']+)'", scope)
    assert pattern, scope
    full_run = re.compile(pattern.group(1))
    for build_file in (
        "pants",
        "pants.toml",
        "pants.ci.toml",
        "3rdparty/python/pins/x.txt",
        "build-support/macros/pipeline.py",
    ):
        assert full_run.match(build_file), build_file
    # The platform and the workflows are scoped by Pants like any other code.
    for scoped in (
        "tools/pipeline_platform/deploy.py",
        ".github/workflows/pr-checks.yaml",
        "pipelines/common/dump.py",
    ):
        assert not full_run.match(scoped), scoped
    runs = " ".join(str(step.get("run", "")) for step in steps(workflow))
    assert "--dry-run" in runs and "affected_pipelines" in runs
    plan = next(step for step in steps(workflow) if "--dry-run" in str(step.get("run", "")))
    graph = next(step for step in steps(workflow) if "affected_pipelines" in str(step.get("run", "")))
    assert str(plan["run"]).startswith(LAUNCHER + " ")
    assert str(graph["run"]).startswith(TOOL_LAUNCHER + " affected_pipelines ")
    # Both on the daemon the job's earlier steps started (PANTS_PANTSD in the job, Pants's default dir).
    assert workflow["jobs"]["checks"]["env"]["PANTS_PANTSD"] == "true"
    for step in (plan, graph):
        assert step["env"]["PIPELINES_PANTSD_DIR"] == ".pids", step["name"]
    for config in ("pants.toml", "pants.ci.toml"):
        assert "pants_subprocessdir" not in (GITHUB.parent / config).read_text(), config


def test_the_launchers_exist_and_run_the_tools_pex() -> None:
    for launcher in (GITHUB.parent / LAUNCHER, GITHUB.parent / TOOL_LAUNCHER):
        assert os.access(launcher, os.X_OK), f"{launcher} is not executable"
    assert TOOL_LAUNCHER.split("/")[-1] in (GITHUB.parent / LAUNCHER).read_text()
    text = (GITHUB.parent / TOOL_LAUNCHER).read_text()
    assert "tools:deploy-tool-deps" in text and "PIPELINES_PANTSD_DIR" in text


SETUP_MACHINE = "build-support/ci/setup-machine.sh"


def test_every_job_prepares_the_machine_with_the_one_setup_script_before_pants_runs() -> None:
    for path in WORKFLOWS:
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            runs = [str(step.get("run", "")) for step in job["steps"]]
            setup = [index for index, run in enumerate(runs) if SETUP_MACHINE in run]
            assert len(setup) == 1, f"{path.name}: job {name} does not run {SETUP_MACHINE} once"
            pants = [index for index, run in enumerate(runs) if "./pants" in run or LAUNCHER in run]
            assert (
                pants and min(pants) > setup[0]
            ), f"{path.name}: job {name} runs Pants before {SETUP_MACHINE}"


def test_pr_checks_get_every_service_the_tests_need() -> None:
    runs = [str(step.get("run", "")) for step in steps(load("pr-checks.yaml"))]
    setup = next(run for run in runs if SETUP_MACHINE in run)
    # No part named: all of them (PostgreSQL, MariaDB, registry, both OS images), as in .ci/run.
    assert setup.rstrip().endswith(SETUP_MACHINE), setup
    assert "GITHUB_ENV" in setup


REMOTE_CACHE_INPUTS = {
    "remote-cache-address": "${{ vars.PANTS_REMOTE_CACHE_ADDRESS }}",
    "remote-cache-instance": "${{ vars.PANTS_REMOTE_CACHE_INSTANCE }}",
    "remote-cache-token": "${{ secrets.PANTS_REMOTE_CACHE_TOKEN }}",
    "remote-cache-basic-auth": "${{ secrets.PANTS_REMOTE_CACHE_BASIC_AUTH }}",
}


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("pr-checks.yaml", "false"),
        ("main-checks.yaml", "true"),
        ("deploy-prefect-flows-staging.yaml", "true"),
        ("deploy-prefect-flows-prod.yaml", "true"),
    ],
)
def test_the_remote_cache_is_read_by_every_build_and_written_by_masters_only(name: str, write: str) -> None:
    setup = next(step for step in steps(load(name)) if step.get("uses") == "./.github/actions/pants-setup")
    assert setup["with"] == {**REMOTE_CACHE_INPUTS, "remote-cache-write": write}


def run_the_remote_cache_step(tmp_path: Path, **inputs: str) -> subprocess.CompletedProcess[str]:
    """The pants-setup step that switches the remote cache on, run as the runner runs it."""
    step = next(step for step in pants_setup_steps() if "remote-cache-env.sh" in step.get("run", ""))
    assert step["if"] == "${{ inputs.remote-cache-address != '' }}"
    env = {"PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp_path), "GITHUB_ENV": str(tmp_path / "env")}
    for variable, expression in step["env"].items():
        env[variable] = inputs.get(expression.removeprefix("${{ inputs.").removesuffix(" }}"), "")
    return subprocess.run(
        ["bash", "-c", step["run"]], cwd=GITHUB.parent, env=env, capture_output=True, text=True, check=False
    )


def test_the_remote_cache_step_hands_pants_the_server_and_the_token_in_a_file(tmp_path: Path) -> None:
    result = run_the_remote_cache_step(
        tmp_path,
        **{
            "remote-cache-address": "grpcs://cache.example:443",
            "remote-cache-token": "t0k",
            "remote-cache-write": "false",
        },
    )

    assert result.returncode == 0, result.stderr
    variables = dict(line.split("=", 1) for line in (tmp_path / "env").read_text().splitlines())
    token_file = Path(variables.pop("PANTS_REMOTE_OAUTH_BEARER_TOKEN_PATH"))
    assert token_file.read_text() == "t0k"
    assert token_file.stat().st_mode & 0o077 == 0
    assert variables == {
        "PANTS_REMOTE_CACHE_READ": "true",
        "PANTS_REMOTE_CACHE_WRITE": "false",
        "PANTS_REMOTE_STORE_ADDRESS": "grpcs://cache.example:443",
        "PANTS_REMOTE_INSTANCE_NAME": "",
    }


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"remote-cache-address": "https://cache.example"}, "set it to grpc://host:port"),
        ({"remote-cache-address": "grpc://cache:9092", "remote-cache-write": "yes"}, "must be true or false"),
        (
            {
                "remote-cache-address": "grpc://cache:9092",
                "remote-cache-token": "t",
                "remote-cache-basic-auth": "u:p",
            },
            "keep the one the server checks",
        ),
        (
            {"remote-cache-address": "grpc://cache:9092", "remote-cache-basic-auth": "no-colon"},
            "user:password",
        ),
    ],
)
def test_the_remote_cache_step_refuses_bad_settings_by_name(
    tmp_path: Path, inputs: dict[str, str], message: str
) -> None:
    result = run_the_remote_cache_step(tmp_path, **{"remote-cache-write": "true", **inputs})

    assert result.returncode == 2
    assert message in result.stderr
