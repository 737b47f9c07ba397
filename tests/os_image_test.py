"""With nothing exported and no registry to pull the OS image from, images build on the offline OS image;
where that cannot be had, one clear message says so before anything is built; a failed build says why.

The registry is made unreachable by pointing the Dockerfile's default at a closed port on 127.0.0.1
(OS_IMAGE_DEFAULT), so a machine with Docker Hub access takes the same path as one without.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline_platform.docker_cli import unavailable_reason as docker_unavailable_reason
from pipeline_platform.images import build_failure_cause
from pipeline_platform.local_server import stop_local_server
from repo_testing.ci import skip_or_fail
from repo_testing.deploy_support import free_port, run_script
from repo_testing.workspace import REPO_ROOT, copy_repo, pants

SCRIPT = REPO_ROOT / "build-support" / "docker" / "os-image.sh"
OFFLINE_TAG = "rio-pipelines/os:trixie-python3.13"
IMAGE_TAG = "os-image-test"


@pytest.fixture(scope="module")
def engine() -> None:
    if reason := docker_unavailable_reason():
        skip_or_fail(reason)
    if subprocess.run(["docker", "image", "inspect", OFFLINE_TAG], capture_output=True).returncode != 0:
        # Where Docker Hub answers, setup-machine.sh does not need it: this test builds it then.
        skip_or_fail(f"{OFFLINE_TAG} is not built (bash build-support/docker/build-offline-os-image.sh)")


def unpullable() -> str:
    return f"127.0.0.1:{free_port()}/rio-test/python:3.13-slim-trixie"


def environment(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "OS_IMAGE"}
    env.update(overrides)
    return env


def resolve(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300)


def test_an_explicit_os_image_is_kept(engine: None) -> None:
    result = resolve(environment(OS_IMAGE="registry.example.test/python:3.13"))
    assert (result.returncode, result.stdout) == (0, "registry.example.test/python:3.13\n")


def test_the_default_is_used_when_the_engine_has_it(engine: None) -> None:
    result = resolve(
        environment(OS_IMAGE_DEFAULT=OFFLINE_TAG, OFFLINE_OS_IMAGE="rio-pipelines/os:never-used")
    )
    assert (result.returncode, result.stdout) == (0, f"{OFFLINE_TAG}\n")


def test_an_unpullable_default_falls_back_to_the_offline_image(engine: None) -> None:
    result = resolve(environment(OS_IMAGE_DEFAULT=unpullable()))
    assert (result.returncode, result.stdout) == (0, f"{OFFLINE_TAG}\n"), result.stderr


def test_without_root_tools_the_message_names_the_fix_and_nothing_is_built(engine: None) -> None:
    absent = f"rio-pipelines/os:absent-{uuid.uuid4().hex[:8]}"
    # No debootstrap on this PATH (Debian installs it in /usr/sbin).
    env = environment(
        OS_IMAGE_DEFAULT=unpullable(), OFFLINE_OS_IMAGE=absent, PATH="/usr/local/bin:/usr/bin:/bin"
    )
    result = resolve(env)
    message = " ".join(result.stderr.split())
    assert result.returncode == 1
    assert result.stdout == ""
    assert "connection refused" in message
    assert "build-support/docker/build-offline-os-image.sh" in message
    assert "export OS_IMAGE=" in message
    assert subprocess.run(["docker", "image", "inspect", absent], capture_output=True).returncode != 0


@pytest.fixture(scope="module")
def repo(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield copy_repo(tmp_path_factory.mktemp("repo"))
    built = subprocess.run(
        [
            "docker",
            "image",
            "ls",
            "--format",
            "{{.Repository}}:{{.Tag}}",
            "--filter",
            f"reference=*:{IMAGE_TAG}",
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    if built:
        subprocess.run(["docker", "image", "rm", "--force", *built], capture_output=True)


def test_package_builds_with_nothing_exported(repo: Path) -> None:
    env = environment(OS_IMAGE_DEFAULT=unpullable(), IMAGE_TAG=IMAGE_TAG)
    result = subprocess.run(
        ["./pants", "--no-pantsd", "package", "//:base"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    inspected = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Config.User}}", f"rio-pipelines-base:{IMAGE_TAG}"],
        capture_output=True,
        text=True,
    )
    assert inspected.stdout.strip() == "1000:1000"


def test_a_failed_pull_is_the_cause_given(repo: Path) -> None:
    result = pants(repo, "package", "//:base", env={"OS_IMAGE": unpullable(), "IMAGE_TAG": IMAGE_TAG})
    assert result.returncode != 0
    cause = build_failure_cause(result.stderr)
    assert "connection refused" in cause
    assert "ProcessExecutionFailure" not in cause


def test_a_failing_run_step_is_the_cause_given(repo: Path) -> None:
    dockerfile = repo / "pipelines/rj_smtr__gps_brt/Dockerfile"
    original = dockerfile.read_text()
    dockerfile.write_text(original + "RUN echo 'broken step' && exit 3\n")
    try:
        result = pants(repo, "package", "pipelines/rj_smtr__gps_brt:image", env={"IMAGE_TAG": IMAGE_TAG})
    finally:
        dockerfile.write_text(original)
    assert result.returncode != 0
    cause = build_failure_cause(result.stderr)
    assert "returned a non-zero code: 3" in cause, cause


def test_the_deploy_tool_stops_before_building_when_no_os_image_can_be_had(
    repo: Path, tmp_path: Path
) -> None:
    absent = f"rio-pipelines/os:absent-{uuid.uuid4().hex[:8]}"
    home = tmp_path / "prefect-server"
    env = {
        "OS_IMAGE": "",
        "OS_IMAGE_DEFAULT": unpullable(),
        "OFFLINE_OS_IMAGE": absent,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PIPELINES_LOCAL_PREFECT_HOME": str(home),
        "PIPELINES_LOCAL_PREFECT_PORT": str(free_port()),
    }
    try:
        result = run_script(
            "deploy", repo, "--environment", "staging", "--pipeline", "rj_smtr__gps_brt", env=env
        )
    finally:
        stop_local_server(home)
    out = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, out[-3000:]  # the CLI's code for "stopped before deploying"
    assert "no OS image to build the images on" in out
    assert "build-offline-os-image.sh" in out
    assert "Building 1 image(s)" not in out
    # It stopped before starting the embedded server.
    assert not home.exists()
