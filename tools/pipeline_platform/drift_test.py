"""The drift check against a real Prefect server: each kind of drift, and none after a clean registration."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import deploy_prefect_flows
import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import DeploymentUpdate
from prefect.settings import PREFECT_API_URL, temporary_settings

from pipeline_platform.drift import EXTRA, MISSING, DriftResult, find_drift
from pipeline_platform.image_refs import ImageResult, ImageStatus
from pipeline_platform.pools import apply_pools, load_pool_templates
from pipeline_platform.register import register_pipeline
from pipeline_platform.repo_root import REPO_ROOT_ENV, find_repo_root
from pipeline_platform.retries import RetryPolicy
from pipeline_platform.spec import PipelineSpec, load_pipeline
from pipeline_platform.testing import IMAGE, PIPELINE, deployment, prefect_yaml, write_pipeline
from pipeline_platform.testing import run_with_client as run
from pipelines.common.naming import PipelineName

TEMPLATES = find_repo_root() / "infra" / "work-pools"
FAST = RetryPolicy(attempts=2, initial_seconds=0.05, max_seconds=0.1)
STAGING = f"{PIPELINE}/{IMAGE}--staging"


@pytest.fixture(scope="module")
def pools(prefect_harness: None) -> None:
    run(lambda client: apply_pools(client, load_pool_templates(find_repo_root())))


@pytest.fixture
def server(pools: None) -> None:
    """The test server with its work pools and no deployment."""

    async def delete_all(client: PrefectClient) -> None:
        for item in await client.read_deployments():
            await client.delete_deployment(item.id)

    run(delete_all)


def spec_from(tmp_path: Path, document: dict[str, Any] | None = None) -> PipelineSpec:
    return load_pipeline(write_pipeline(tmp_path, document or prefect_yaml(), templates=TEMPLATES))


def register(spec: PipelineSpec, tag: str = "aaaaaaa", image: str = IMAGE) -> None:
    result = ImageResult(PipelineName.from_dir(PIPELINE), f"{image}:{tag}", ImageStatus.BUILT)
    outcome = run(lambda client: register_pipeline(client, spec, "staging", result, tag, FAST))
    assert outcome.ok, outcome


def drift(spec: PipelineSpec, registry: str | None = None) -> DriftResult:
    return run(lambda client: find_drift(client, [spec], "staging", registry))


def kinds(result: DriftResult) -> list[tuple[str, str]]:
    return [(item.deployment, item.kind) for item in result.drifts]


def update(change: DeploymentUpdate) -> None:
    async def apply(client: PrefectClient) -> None:
        registered = await client.read_deployment_by_name(STAGING)
        await client.update_deployment(registered.id, change)

    run(apply)


async def pause(client: PrefectClient) -> None:
    await client.pause_deployment((await client.read_deployment_by_name(STAGING)).id)


def test_a_clean_registration_has_no_drift_and_reports_the_servers_tag(server: None, tmp_path: Path) -> None:
    spec = spec_from(tmp_path)
    register(spec, tag="aaaaaaa")

    result = drift(spec)

    assert result.clean, result.drifts
    assert result.declared == 1
    assert result.server_tags == {STAGING: "aaaaaaa"}
    assert "no drift" in result.report().empty


def test_a_declared_deployment_absent_from_the_server_is_missing(server: None, tmp_path: Path) -> None:
    assert kinds(drift(spec_from(tmp_path))) == [(STAGING, MISSING)]


def test_only_this_environments_undeclared_rj_deployments_are_extra(server: None, tmp_path: Path) -> None:
    spec = spec_from(tmp_path)
    register(spec)

    async def add_strays(client: PrefectClient) -> None:
        flow_id = await client.create_flow_from_name(PIPELINE)
        for name in ("rj-teste--antigo--staging", "rj-teste--antigo--prod", "feito-a-mao--staging"):
            await client.create_deployment(flow_id=flow_id, name=name)

    run(add_strays)

    assert kinds(drift(spec)) == [(f"{PIPELINE}/rj-teste--antigo--staging", EXTRA)]


def test_a_changed_schedule_is_drift(server: None, tmp_path: Path) -> None:
    register(spec_from(tmp_path))
    one = [{"cron": "*/5 * * * *", "timezone": "America/Sao_Paulo", "active": False}]
    changed = spec_from(tmp_path, prefect_yaml(deployments=[deployment("staging", schedules=one)]))

    result = drift(changed)

    assert kinds(result) == [(STAGING, "schedules")]
    assert "*/5 * * * *" in result.drifts[0].repo and "0 3 * * *" in result.drifts[0].server


def test_a_schedule_activated_on_the_server_is_drift(server: None, tmp_path: Path) -> None:
    spec = spec_from(tmp_path)
    register(spec)

    async def activate(client: PrefectClient) -> None:
        registered = await client.read_deployment_by_name(STAGING)
        await client.update_deployment_schedule(registered.id, registered.schedules[0].id, active=True)

    run(activate)

    assert kinds(drift(spec)) == [(STAGING, "schedules")]


def test_a_changed_parameter_is_drift(server: None, tmp_path: Path) -> None:
    register(spec_from(tmp_path))
    changed = spec_from(
        tmp_path, prefect_yaml(deployments=[deployment("staging", parameters={"table": "outra"})])
    )

    result = drift(changed)

    assert kinds(result) == [(STAGING, "parameters")]
    assert (result.drifts[0].repo, result.drifts[0].server) == ('{"table": "outra"}', '{"table": "chamado"}')


def test_a_job_variable_changed_on_the_server_is_drift(server: None, tmp_path: Path) -> None:
    spec = spec_from(tmp_path)
    register(spec)
    update(
        DeploymentUpdate(
            job_variables={
                "image": f"{IMAGE}:aaaaaaa",
                "secretName": "prefect-jobs-secrets-staging",
                "image_pull_policy": "IfNotPresent",
            }
        )
    )

    result = drift(spec)

    assert kinds(result) == [(STAGING, "job variables")]
    assert "IfNotPresent" in result.drifts[0].server and "Always" in result.drifts[0].repo


def test_another_image_name_is_drift_but_another_tag_is_not(server: None, tmp_path: Path) -> None:
    spec = spec_from(tmp_path)
    register(spec, tag="bbbbbbb", image="outra-imagem")

    result = drift(spec)

    assert kinds(result) == [(STAGING, "image")]
    assert (result.drifts[0].repo, result.drifts[0].server) == (IMAGE, "outra-imagem")

    register(spec, tag="ccccccc")
    assert drift(spec).clean
    assert drift(spec).server_tags == {STAGING: "ccccccc"}
    # With a registry configured, the deploy registers <registry>/<image>: a local name is drift there.
    assert kinds(drift(spec, registry="127.0.0.1:5000/rio")) == [(STAGING, "image")]


def test_a_deployment_paused_on_the_server_is_drift(server: None, tmp_path: Path) -> None:
    spec = spec_from(tmp_path)
    register(spec)
    run(pause)

    result = drift(spec)

    assert kinds(result) == [(STAGING, "paused")]
    assert (result.drifts[0].repo, result.drifts[0].server) == ("false", "true")


# --- deploy_prefect_flows.py --check


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    write_pipeline(tmp_path, prefect_yaml(), templates=TEMPLATES)
    monkeypatch.setenv(REPO_ROOT_ENV, str(tmp_path))
    monkeypatch.setenv("PIPELINES_DEPLOY_RETRY_ATTEMPTS", "1")
    monkeypatch.delenv("PIPELINES_IMAGE_REGISTRY", raising=False)
    yield tmp_path


def test_the_command_exits_0_when_clean_and_1_with_a_table_on_drift(
    server: None, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = load_pipeline(repo / "pipelines" / PIPELINE)
    register(spec)

    assert deploy_prefect_flows.main(["--check", "--env", "staging"]) == 0
    assert "no drift" in capsys.readouterr().out

    run(pause)

    assert deploy_prefect_flows.main(["--check", "--env", "staging"]) == 1
    out = capsys.readouterr().out
    assert "Drift check: staging" in out and "paused" in out and "aaaaaaa" in out
    # prod: nothing registered, its deployment is missing.
    assert deploy_prefect_flows.main(["--check", "--environment", "prod"]) == 1
    assert "missing" in capsys.readouterr().out


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_is_a_clear_error_with_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/api"

    with temporary_settings(updates={PREFECT_API_URL: dead}):
        code = deploy_prefect_flows.main(["--check", "--env", "prod"])

    out = capsys.readouterr().out
    assert code == 2
    assert "cannot check prod" in out and "API unreachable" in out and dead in out


def test_check_refuses_flags_that_would_change_something(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        deploy_prefect_flows.parse_args(["--check", "--env", "prod", "--prune"])

    assert stop.value.code == 2
    assert "--check changes nothing" in capsys.readouterr().err
