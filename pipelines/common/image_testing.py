"""Test support: run a pipeline's flow inside the image that Pants built for it.

Tests declare the image as a `runtime_package_dependencies` (the `prefect_pipeline` macro does it for
`image_test.py`), so Pants builds it first and drops its `*.docker-info.json` into the test sandbox.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipelines.common.lake import Lake


@dataclass(frozen=True)
class ContainerRun:
    exit_code: int
    output: str


def built_image(pipeline_dir: str) -> str:
    """The `repository:tag` Pants built for `pipelines/<pipeline_dir>:image`."""
    info_file = Path(f"pipelines.{pipeline_dir}") / "image.docker-info.json"
    if not info_file.exists():
        raise FileNotFoundError(
            f"{info_file} is missing: declare the image in runtime_package_dependencies and run the test "
            "through `./pants test`"
        )
    info = json.loads(info_file.read_text())
    names: list[str] = [tag["name"] for registry in info["registries"] for tag in registry["tags"]]
    return names[0]


def run_flow_in_container(
    image: str, pipeline_dir: str, lake_dir: Path, timeout: float = 300
) -> ContainerRun:
    """Runs the flow module as its image's non-root user, writing to `lake_dir` mounted as the lake."""
    lake_dir.mkdir(parents=True, exist_ok=True)
    lake_dir.chmod(0o777)  # the image's user (uid 1000) writes here
    command = [
        "docker", "run", "--rm", "--network", "none",
        "--volume", f"{lake_dir}:/lake",
        "--env", "PIPELINES_LAKE_URI=/lake",
        "--env", "PIPELINES_LOCAL_DATA_DIR=/tmp/data",
        # The flow starts Prefect's ephemeral server in the container: give it time on a loaded CI machine.
        "--env", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=180",
        image, "python", "-m", f"pipelines.{pipeline_dir}.flow",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    return ContainerRun(result.returncode, result.stdout + result.stderr)


def import_in_container(image: str, module: str, timeout: float = 300) -> ContainerRun:
    """Imports ``module`` inside ``image`` (no network): are its code and third-party dependencies there?"""
    command = ["docker", "run", "--rm", "--network", "none", image, "python", "-c", f"import {module}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    return ContainerRun(result.returncode, result.stdout + result.stderr)


def assert_tables_written(lake_dir: Path, *table_dirs: str) -> None:
    """Each of ``table_dirs`` in the lake at ``lake_dir`` holds Hive-partitioned parquet files with rows."""
    lake = Lake.from_uri(str(lake_dir))
    for table_dir in table_dirs:
        files = lake.list_files(table_dir, recursive=True)
        assert files and all("/data_particao=" in path and path.endswith(".parquet") for path in files), files
        assert lake.read_table(table_dir).num_rows > 0, f"{table_dir} has no rows"
