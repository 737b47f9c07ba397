"""Registration rate: the deploy tool's one-process registration vs one `prefect deploy` per prefect.yaml.

    ./pants run tools/benchmarks/registration_rate.py -- [--pipelines 30]

Side by side in one run, against one fresh local Prefect server (SQLite, 127.0.0.1): N synthetic pipelines
(copies of rj_smtr__gps_brt under new names, in a throwaway directory) have their staging deployment
registered

1. by ``prefect --no-prompt deploy --name <deployment> --prefect-file <prefect.yaml>``, one process per file,
   as the city's previous deploy script did;
2. by this repository's tool code in one process: every prefect.yaml validated (pipeline_platform.spec) and
   every deployment upserted through one Prefect client (pipeline_platform.register).

Both runs upsert the same deployments (a first one-process pass creates them, so that both measured passes are
updates) and the result is read back from the server. Prints the rates and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prefect.client.orchestration import PrefectClient
from rich.console import Console
from rich.table import Table

from pipeline_platform.local_server import OFFLINE_ENV, ensure_local_server, free_port, stop_local_server
from pipeline_platform.pools import POOLS_DIR, apply_pools, load_pool_templates
from pipeline_platform.register import register_deployment
from pipeline_platform.repo_root import find_repo_root
from pipeline_platform.spec import PipelineSpec, load_pipeline

TEMPLATE = "rj_smtr__gps_brt"
TAG = "bench"
ENVIRONMENT = "staging"


def make_pipelines(repo: Path, work: Path, count: int) -> list[Path]:
    """``count`` copies of the template pipeline (flow.py and prefect.yaml) under ``work/pipelines``."""
    shutil.copytree(repo / POOLS_DIR, work / POOLS_DIR)
    (work / "pipelines").mkdir()
    (work / "pipelines" / "__init__.py").write_text("")
    source = repo / "pipelines" / TEMPLATE
    directories = []
    for number in range(1, count + 1):
        name = f"rj_bench__p{number:03d}"
        directory = work / "pipelines" / name
        directory.mkdir()
        (directory / "__init__.py").write_text("")
        dashed = f"rj-bench--p{number:03d}"
        for file in ("flow.py", "prefect.yaml"):
            text = (source / file).read_text().replace(TEMPLATE, name).replace("rj-smtr--gps-brt", dashed)
            (directory / file).write_text(text)
        directories.append(directory)
    return directories


async def one_process(directories: list[Path], api_url: str) -> tuple[float, int]:
    started = time.perf_counter()
    specs: list[PipelineSpec] = [load_pipeline(directory) for directory in directories]
    count = 0
    async with PrefectClient(api_url) as client:
        for spec in specs:
            for deployment in spec.for_environment(ENVIRONMENT):
                image = f"{spec.pipeline.image_name}:{TAG}"
                await register_deployment(client, deployment, image=image, image_tag=TAG)
                count += 1
    return time.perf_counter() - started, count


def one_prefect_deploy_per_file(directories: list[Path], work: Path, api_url: str) -> tuple[float, int]:
    env = {**os.environ, **OFFLINE_ENV, "PREFECT_API_URL": api_url, "IMAGE_TAG": TAG}
    started = time.perf_counter()
    for directory in directories:
        name = f"rj-bench--{directory.name.split('__')[1].replace('_', '-')}--{ENVIRONMENT}"
        command = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--name", name]
        command += ["--prefect-file", str(directory / "prefect.yaml")]
        result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SystemExit(f"prefect deploy failed for {directory.name}:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - started, len(directories)


async def count_registered(api_url: str) -> int:
    async with PrefectClient(api_url) as client:
        return len(await client.read_deployments())


async def create_pools(repo: Path, api_url: str) -> None:
    async with PrefectClient(api_url) as client:
        await apply_pools(client, load_pool_templates(repo))


def main() -> int:
    parser = argparse.ArgumentParser(prog="registration_rate.py", description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=30, help="synthetic pipelines (one deployment each)")
    args = parser.parse_args()
    console = Console()
    repo = find_repo_root()
    with tempfile.TemporaryDirectory(prefix="registration-rate-") as temporary:
        work = Path(temporary)
        directories = make_pipelines(repo, work, args.pipelines)
        server = ensure_local_server(work / "server", free_port())
        try:
            asyncio.run(create_pools(repo, server.api_url))
            asyncio.run(one_process(directories, server.api_url))  # creates them: both passes below update
            console.print(
                f"Server {server.url}; {len(directories)} deployments; `prefect deploy` per file..."
            )
            cli_seconds, cli_count = one_prefect_deploy_per_file(directories, work, server.api_url)
            console.print("One process...")
            tool_seconds, tool_count = asyncio.run(one_process(directories, server.api_url))
            registered = asyncio.run(count_registered(server.api_url))
        finally:
            stop_local_server(work / "server")
    assert registered == len(
        directories
    ), f"{registered} deployments on the server, expected {len(directories)}"
    table = Table(title=f"Registration rate, {len(directories)} deployments, one run, same server")
    for column in ("Method", "Deployments", "Seconds", "Deployments/s"):
        table.add_column(column, justify="right" if column != "Method" else "left")
    cli_rate, tool_rate = cli_count / cli_seconds, tool_count / tool_seconds
    table.add_row(
        "one `prefect deploy` per prefect.yaml", str(cli_count), f"{cli_seconds:.2f}", f"{cli_rate:.2f}"
    )
    table.add_row("deploy tool, one process", str(tool_count), f"{tool_seconds:.2f}", f"{tool_rate:.2f}")
    console.print(table)
    console.print(f"Ratio: [bold]{tool_rate / cli_rate:.1f}x[/] faster in one process (goal: at least 10x).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
