"""Deploy the pipelines affected by a change to Prefect (docs/deploy.md).

    ./pants run tools/deploy_prefect_flows.py -- --environment staging --all
    ./pants run tools/deploy_prefect_flows.py -- --check --env prod    # drift: repo vs server

Every flag can come from the environment instead (for the workflows): PIPELINES_DEPLOY_ENVIRONMENT,
PIPELINES_DEPLOY_CHANGED_SINCE, PIPELINES_DEPLOY_PIPELINE, PIPELINES_DEPLOY_ALL, PIPELINES_DEPLOY_DRY_RUN,
PIPELINES_DEPLOY_PRUNE, PIPELINES_DEPLOY_RUN and PIPELINES_DEPLOY_FREE_DISK; flags win.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import httpx
from rich.console import Console

from pipeline_platform.deploy import Options, deploy
from pipeline_platform.drift import check
from pipeline_platform.image_refs import ImageTagError
from pipeline_platform.local_server import LocalServerError
from pipeline_platform.pants import PantsError
from pipeline_platform.problems import DeployError
from pipeline_platform.register import describe_error
from pipeline_platform.repo import GitError
from pipeline_platform.repo_root import RepoRootError, find_repo_root
from pipeline_platform.summary import terminal_width
from pipelines.common.naming import ENVIRONMENTS, NamingError

ENV_PREFIX = "PIPELINES_DEPLOY_"
TRUE = {"1", "true", "yes", "on"}


def env(name: str) -> str | None:
    return os.environ.get(ENV_PREFIX + name) or None


def env_flag(name: str) -> bool:
    return (env(name) or "").strip().lower() in TRUE


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="deploy_prefect_flows.py",
        description="Build and register the Prefect deployments of the pipelines affected by a change.",
    )
    parser.add_argument("--environment", "--env", choices=ENVIRONMENTS, default=env("ENVIRONMENT"))
    parser.add_argument(
        "--changed-since",
        metavar="REV",
        default=env("CHANGED_SINCE"),
        help="git revision to compare with (default: the merge base with master)",
    )
    selection = parser.add_mutually_exclusive_group()
    selection.add_argument("--pipeline", metavar="NAME", default=env("PIPELINE"), help="deploy this pipeline")
    selection.add_argument(
        "--all", action="store_true", default=env_flag("ALL"), help="deploy every pipeline"
    )
    parser.add_argument(
        "--dry-run", action="store_true", default=env_flag("DRY_RUN"), help="print the plan only"
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        default=env_flag("PRUNE"),
        help="delete deployments no prefect.yaml declares",
    )
    parser.add_argument(
        "--run",
        metavar="DEPLOYMENT",
        default=env("RUN"),
        help="embedded mode: run this deployment in its image on the local Docker, print its final state",
    )
    parser.add_argument(
        "--free-disk",
        action="store_true",
        default=env_flag("FREE_DISK"),
        help="a throwaway CI runner: once the base and deps images are built, delete the images pulled to "
        "seed layers and what the build stages left (a workstation keeps them as its build cache)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare the server's deployments of the environment with the repository's (exit 1 on drift); "
        "builds and changes nothing",
    )
    args = parser.parse_args(argv)
    if args.environment is None:
        parser.error(
            f"--environment is required (or {ENV_PREFIX}ENVIRONMENT): one of {', '.join(ENVIRONMENTS)}"
        )
    if args.all and args.pipeline:
        parser.error("--all and --pipeline exclude each other")
    if args.check and (args.prune or args.run or args.dry_run):
        parser.error("--check changes nothing: it excludes --prune, --run and --dry-run")
    return Options(
        environment=args.environment,
        changed_since=args.changed_since,
        pipeline=args.pipeline,
        all=args.all,
        dry_run=args.dry_run,
        prune=args.prune,
        run=args.run,
        check=args.check,
        free_disk=args.free_disk,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    console = Console(soft_wrap=True, width=terminal_width())
    try:
        if options.check:
            return check(find_repo_root(), options.environment, console)
        return deploy(find_repo_root(), options, console)
    except (
        DeployError,
        GitError,
        ImageTagError,
        LocalServerError,
        NamingError,
        PantsError,
        RepoRootError,
    ) as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        return 2
    except httpx.HTTPError as error:
        console.print(f"[bold red]error:[/] Prefect API: {describe_error(error)}", highlight=False)
        return 2


if __name__ == "__main__":
    sys.exit(main())
