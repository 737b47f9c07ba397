"""Real images: the deploy tool builds the changed pipeline's image with Pants, registers it, and (``--run``)
runs the deployment in that image through a local Docker work pool, all on the embedded server; with a
registry (a real one on 127.0.0.1, when Debian's docker-registry is installed), it pushes the image."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId

from pipeline_platform.docker_cli import docker, image_exists
from pipeline_platform.docker_cli import unavailable_reason as docker_unavailable_reason
from pipeline_platform.local_run import LOCAL_POOL, SUBMIT_ATTEMPTS, RunNotSubmitted, run_in_local_docker
from pipeline_platform.local_server import ensure_local_server, stop_local_server
from pipeline_platform.retries import RetryPolicy
from pipeline_platform.session import session
from pipelines.common.lake import Lake
from pipelines.common.sample_server import SampleServer, json_response
from pipelines.common.settings import GCS_ENDPOINT_ENV, LAKE_URI_ENV
from repo_testing.ci import skip_or_fail
from repo_testing.deploy_support import Fault, FaultyApiRelay, free_port, read_deployments, run_script
from repo_testing.registry import RegistryUnavailable, local_registry
from repo_testing.workspace import commit_all, copy_repo, git

DEPLOYMENT = "rj-smtr--gps-brt--staging"
# The capture's source, as its deployments name it: a variable of the job's secret.
SOURCE_VARIABLE = "SMTR_BRT_GPS__API_URL"
RAW_TABLE = "br_rj_riodejaneiro_brt_gps/registros_raw"
FLOW_RUN = "/api/flow_runs/[0-9a-f-]{36}"
TREATED_TABLE = "br_rj_riodejaneiro_brt_gps/registros"


@pytest.fixture
def brt_api() -> Iterator[SampleServer]:
    """The BRT API's stand-in on 127.0.0.1: two buses in Rio, reported a minute ago."""
    now_ms = int((time.time() - 60) * 1000)
    vehicles = [
        {"codigo": code, "latitude": -22.9, "longitude": -43.3, "dataHora": now_ms, "linha": "10"}
        for code in ("40001", "40002")
    ]
    with SampleServer({"/veiculos": lambda _query: json_response({"veiculos": vehicles})}) as server:
        yield server


@pytest.fixture
def gcs_lake(gcs_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, str]]:
    """A fresh prefix of the GCS server's bucket, and the lake settings a run there gets."""
    uri = f"gs://lake/run-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv(GCS_ENDPOINT_ENV, gcs_url)  # for this test's own reads
    return uri, {LAKE_URI_ENV: uri, GCS_ENDPOINT_ENV: gcs_url}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if reason := docker_unavailable_reason():
        skip_or_fail(reason)
    return copy_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "prefect-server"
    stop_local_server(tmp_path / "prefect-server")


def inspect_image(reference: str) -> dict[str, Any]:
    result = docker(None, "image", "inspect", reference)
    assert result.returncode == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found[0]


def remove_images(*references: str) -> None:
    """Removes the images of ``references`` that exist (some are never built when a test fails early)."""
    if present := [reference for reference in references if image_exists(reference)]:
        docker(None, "image", "rm", "--force", *present)


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr[-4000:]}"


def test_the_changed_pipeline_is_built_registered_and_run_in_its_image(
    repo: Path, home: Path, brt_api: SampleServer, gcs_lake: tuple[str, dict[str, str]]
) -> None:
    tasks = repo / "pipelines/rj_smtr__gps_brt/tasks.py"
    tasks.write_text(tasks.read_text() + "\n# changed by the image run test\n")
    commit_all(repo, "smtr change")
    tag = git(repo, "rev-parse", "--short", "HEAD").strip()
    port = free_port()
    lake_uri, lake_env = gcs_lake
    env = {
        "PIPELINES_LOCAL_PREFECT_HOME": str(home),
        "PIPELINES_LOCAL_PREFECT_PORT": str(port),
        SOURCE_VARIABLE: brt_api.url("/veiculos"),
        **lake_env,
    }

    try:
        result = run_script(
            "deploy",
            repo,
            "--environment",
            "staging",
            "--changed-since",
            "HEAD~1",
            "--run",
            DEPLOYMENT,
            env=env,
        )
        assert result.returncode == 0, output(result)
        assert f"Building 1 image(s) with Pants, tag {tag}" in result.stdout
        assert "ended Completed" in result.stdout

        api_url = f"http://127.0.0.1:{port}/api"
        registered = read_deployments(api_url)
        assert set(registered) == {DEPLOYMENT, f"{DEPLOYMENT}--local-docker"}
        assert registered[DEPLOYMENT].image == f"rj-smtr--gps-brt:{tag}"
        assert registered[DEPLOYMENT].pool == "default-pool"
        assert registered[f"{DEPLOYMENT}--local-docker"].pool == LOCAL_POOL
        assert inspect_image(f"rj-smtr--gps-brt:{tag}")["Config"]["WorkingDir"] == "/opt/prefect"

        async def runs() -> list[str | None]:
            async with PrefectClient(api_url) as client:
                twin = await client.read_deployment_by_name(f"rj_smtr__gps_brt/{DEPLOYMENT}--local-docker")
                found = await client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[twin.id]))
                )
            return [run.state.name for run in found if run.state is not None]

        assert asyncio.run(runs()) == ["Completed"]  # the run the tool made, read back from the server
        # The source was the job secret's variable; the lake, the GCS server on 127.0.0.1.
        assert brt_api.hits["/veiculos"] == 1
        lake = Lake.from_uri(lake_uri)
        for table in (RAW_TABLE, TREATED_TABLE):
            files = lake.list_files(table, recursive=True)
            assert files and all("/data_particao=" in path and "/hora_particao=" in path for path in files)
        assert sorted(lake.read_table(TREATED_TABLE)["id_veiculo"].to_pylist()) == ["40001", "40002"]
    finally:
        remove_images(f"rj-smtr--gps-brt:{tag}", f"rio-pipelines-base:{tag}")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """A Docker registry (distribution) on 127.0.0.1, storing in the test's directory."""
    try:
        with local_registry(tmp_path, free_port()) as address:
            yield address
    except RegistryUnavailable as error:
        skip_or_fail(f"{error}: needed for the push test")


def test_with_a_registry_the_image_is_pushed_and_the_next_deploy_builds_on_the_published_base_and_deps(
    repo: Path, home: Path, registry: str
) -> None:
    tag = git(repo, "rev-parse", "--short", "HEAD").strip()
    port = free_port()
    env = {
        "PIPELINES_LOCAL_PREFECT_HOME": str(home),
        "PIPELINES_LOCAL_PREFECT_PORT": str(port),
        "PIPELINES_IMAGE_REGISTRY": f"{registry}/rio",
    }
    base_tags = f"http://{registry}/v2/rio/rio-pipelines-base/tags/list"
    # Published deps images are shared by the pipelines whose requirements resolve alike; Pants builds one
    # under the pipeline's own repository.
    deps_tags = f"http://{registry}/v2/rio/rio-pipelines-deps/tags/list"
    deps = f"{registry}/rio/rio-pipelines-deps"
    deps_built = f"{registry}/rio/rj-smtr--gps-brt-deps"
    reference = f"{registry}/rio/rj-smtr--gps-brt:{tag}"
    built = [reference, f"{registry}/rio/rio-pipelines-base:{tag}", f"{deps_built}:{tag}"]
    try:
        result = run_script(
            "deploy", repo, "--environment", "prod", "--pipeline", "rj_smtr__gps_brt", env=env
        )

        assert result.returncode == 0, output(result)
        assert "built and pushed" in result.stdout
        tags = httpx.get(f"http://{registry}/v2/rio/rj-smtr--gps-brt/tags/list").json()
        assert tags["tags"] == [tag]
        assert read_deployments(f"http://127.0.0.1:{port}/api")["rj-smtr--gps-brt--prod"].image == reference
        # No base was published for these inputs: the deploy built //:base and published it under their tag.
        assert "//:base is built (reproducible) and published" in result.stdout, output(result)
        [inputs_tag] = httpx.get(base_tags).json()["tags"]
        assert inputs_tag.startswith("inputs-")
        built.append(f"{registry}/rio/rio-pipelines-base:{inputs_tag}")
        # Nor a deps image: the deploy built :deps-image and published it under its inputs' tag.
        assert "Deps images: 0 of 1 published for these inputs" in result.stdout, output(result)
        [deps_inputs_tag] = httpx.get(deps_tags).json()["tags"]
        assert deps_inputs_tag.startswith("inputs-")
        built.append(f"{deps}:{deps_inputs_tag}")

        # A code-only change: the next deploy pulls that base and builds on it, by digest.
        tasks = repo / "pipelines/rj_smtr__gps_brt/tasks.py"
        tasks.write_text(tasks.read_text() + "\n# changed by the published-base test\n")
        commit_all(repo, "smtr change on the published base")
        next_tag = git(repo, "rev-parse", "--short", "HEAD").strip()
        built += [
            f"{registry}/rio/rj-smtr--gps-brt:{next_tag}",
            f"{registry}/rio/rio-pipelines-base:{next_tag}",
            f"{deps_built}:{next_tag}",
        ]
        result = run_script("deploy", repo, "--environment", "prod", "--changed-since", "HEAD~1", env=env)

        assert result.returncode == 0, output(result)
        assert "published for these inputs: not rebuilt" in result.stdout, output(result)
        assert httpx.get(base_tags).json()["tags"] == [inputs_tag]
        # The requirements did not change: the same deps image, pulled, and no deps stage built.
        assert "Deps images: 1 of 1 published for these inputs, reused" in result.stdout, output(result)
        assert httpx.get(deps_tags).json()["tags"] == [deps_inputs_tag]
        base = inspect_image(f"{registry}/rio/rio-pipelines-base:{inputs_tag}")
        image = inspect_image(f"{registry}/rio/rj-smtr--gps-brt:{next_tag}")
        # Pants built no base this time (it would carry the new tag); the image is on the published one.
        assert not image_exists(f"{registry}/rio/rio-pipelines-base:{next_tag}")
        deps_image = inspect_image(f"{deps}:{deps_inputs_tag}")
        assert not image_exists(f"{deps_built}:{next_tag}")
        base_layers = base["RootFS"]["Layers"]
        # The deps image is the requirements' layer alone; the image is the base, that layer, the sources.
        [deps_layer] = deps_image["RootFS"]["Layers"]
        layers = image["RootFS"]["Layers"]
        assert layers[:-1] == [*base_layers, deps_layer], layers

        # A base change that leaves its file system as it was (a label): the base is rebuilt and published
        # under its new inputs, and the deps image, looked up by the base's layers, is reused, not rebuilt.
        dockerfile = repo / "Dockerfile"
        dockerfile.write_text(dockerfile.read_text() + '\nLABEL org.prefeitura.rio.test="a label only"\n')
        commit_all(repo, "a label on the base")
        label_tag = git(repo, "rev-parse", "--short", "HEAD").strip()
        # Every pipeline is on the base: all are rebuilt, and a pipeline never deployed here builds its deps.
        built += [
            f"{registry}/rio/{image}{suffix}:{label_tag}"
            for image in ("rj-smtr--gps-brt", "rj-cor--alertario-precipitacao", "rj-segovi--dump-db-1746")
            for suffix in ("", "-deps")
        ]
        built.append(f"{registry}/rio/rio-pipelines-base:{label_tag}")
        result = run_script("deploy", repo, "--environment", "prod", "--changed-since", "HEAD~1", env=env)

        assert result.returncode == 0, output(result)
        assert "//:base is built (reproducible) and published" in result.stdout, output(result)
        base_inputs_tags = httpx.get(base_tags).json()["tags"]
        assert len(base_inputs_tags) == 2 and inputs_tag in base_inputs_tags
        built += [f"{registry}/rio/rio-pipelines-base:{name}" for name in base_inputs_tags]
        # The deps image the pipeline had is found again (it is not among those built), under the same tag.
        assert re.search(r"Deps images: [1-9]\d* of \d+ published for these inputs", result.stdout), output(
            result
        )
        assert f"none at {deps}:{deps_inputs_tag}" not in result.stdout, output(result)
        deps_inputs_tags = httpx.get(deps_tags).json()["tags"]
        assert deps_inputs_tag in deps_inputs_tags
        built += [f"{deps}:{name}" for name in deps_inputs_tags]
        relabeled = inspect_image(f"{registry}/rio/rj-smtr--gps-brt:{label_tag}")
        assert relabeled["RootFS"]["Layers"][:-1] == [*base_layers, deps_layer]
        assert relabeled["Config"]["Labels"]["org.prefeitura.rio.test"] == "a label only"
    finally:
        remove_images(*built)


def test_a_prod_run_without_its_source_fails_naming_it_and_writes_nothing(
    repo: Path, home: Path, gcs_lake: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SOURCE_VARIABLE, raising=False)
    lake_uri, lake_env = gcs_lake
    port = free_port()
    env = {"PIPELINES_LOCAL_PREFECT_HOME": str(home), "PIPELINES_LOCAL_PREFECT_PORT": str(port), **lake_env}
    tag = git(repo, "rev-parse", "--short", "HEAD").strip()
    try:
        result = run_script(
            "deploy",
            repo,
            "--environment",
            "prod",
            "--pipeline",
            "rj_smtr__gps_brt",
            "--run",
            "rj-smtr--gps-brt--prod",
            env=env,
        )
        assert result.returncode != 0, output(result)
        assert "ended Failed" in result.stdout, output(result)
        assert SOURCE_VARIABLE in result.stdout, output(result)
        assert Lake.from_uri(lake_uri).list_files("br_rj_riodejaneiro_brt_gps", recursive=True) == []
    finally:
        remove_images(f"rj-smtr--gps-brt:{tag}", f"rio-pipelines-base:{tag}")


def test_a_busy_server_is_retried_and_a_run_it_never_takes_is_reported_as_not_submitted(
    repo: Path, home: Path, brt_api: SampleServer, gcs_lake: tuple[str, dict[str, str]]
) -> None:
    # The embedded server of ``home``, already up: the tool reuses it through a relay on the port it is given.
    server = ensure_local_server(home, free_port())
    # Each step fails once the way a busy embedded server fails (503, reset connection).
    faults = [
        Fault("POST /api/work_pools/ ", "reset", 1),  # a work pool created
        Fault("POST /api/deployments/filter ", "503", 1),  # the deployment to run looked up
        Fault(f"PATCH {FLOW_RUN}/labels ", "503", 1),  # the worker's first call once it claimed the run
        Fault(f"GET {FLOW_RUN} ", "503", 2),  # the run watched
    ]
    busy = FaultyApiRelay(server.port, faults)
    lake_uri, lake_env = gcs_lake
    env = {
        "PIPELINES_LOCAL_PREFECT_HOME": str(home),
        "PIPELINES_LOCAL_PREFECT_PORT": str(busy.port),
        SOURCE_VARIABLE: brt_api.url("/veiculos"),
        **lake_env,
    }
    tag = git(repo, "rev-parse", "--short", "HEAD").strip()
    try:
        result = run_script(
            "deploy",
            repo,
            "--environment",
            "staging",
            "--pipeline",
            "rj_smtr__gps_brt",
            "--run",
            DEPLOYMENT,
            env=env,
        )

        assert result.returncode == 0, output(result)
        assert [fault.injected for fault in faults] == [fault.times for fault in faults], output(result)
        assert f"not submitted (attempt 1 of {SUBMIT_ATTEMPTS})" in result.stdout, output(result)
        assert "ended Completed" in result.stdout, output(result)
        assert brt_api.hits["/veiculos"] == 1
        assert Lake.from_uri(lake_uri).list_files(TREATED_TABLE, recursive=True)

        # A server that fails every submission: the run is reported as never submitted, not as the flow's.
        refusing = FaultyApiRelay(server.port, [Fault(f"PATCH {FLOW_RUN}/labels ", "503", 100)])
        printed: list[str] = []

        async def run_refused() -> None:
            async with session(refusing.api_url) as client:
                policy = RetryPolicy(attempts=2, initial_seconds=0.1, max_seconds=0.2)
                await run_in_local_docker(client, DEPLOYMENT, printer=printed.append, policy=policy)

        with pytest.raises(RunNotSubmitted, match="the flow never ran") as raised:
            asyncio.run(run_refused())
        assert "503" in str(raised.value)
        assert refusing.faults[0].injected == SUBMIT_ATTEMPTS
        assert sum("not submitted" in line for line in printed) == SUBMIT_ATTEMPTS - 1
        assert brt_api.hits["/veiculos"] == 1
        busy.close()
        refusing.close()
    finally:
        remove_images(f"rj-smtr--gps-brt:{tag}", f"rio-pipelines-base:{tag}")
