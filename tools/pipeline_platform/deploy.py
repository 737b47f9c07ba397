"""The deploy tool's run: plan, validate, build, register, prune, summarise (CLI: deploy_prefect_flows.py).

1. Plan: the affected pipelines (Pants), or every pipeline (``--all``), or one (``--pipeline``).
2. Validate every affected prefect.yaml; any problem stops here, before anything is built or registered.
3. Server: ``PREFECT_API_URL`` when set, else the embedded local server (started or reused) with the work
   pools of ``infra/work-pools``.
4. Pipelines whose only change is prefect.yaml keep the image their deployments run now; with none registered
   yet, their image is built like the others.
5. Build the images with Pants (tag: short git sha), pushed when a registry is configured.
6. Register every deployment of the environment for each pipeline, in this process, through Prefect's client.
7. ``--prune``; ``--run`` (embedded mode); the summary table (stdout and $GITHUB_STEP_SUMMARY).

Steps 3 to 7 share one Prefect client session (session.py); everything printed goes through reporter.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from prefect.client.orchestration import PrefectClient
from rich.console import Console

from pipeline_platform import docker_cli, images, local_server, pools, published, register
from pipeline_platform.affected import Action, AffectedPipeline, Plan, Reason, plan_for
from pipeline_platform.image_refs import ImageResult, ImageStatus, image_tag, planned_reference
from pipeline_platform.image_refs import registry as image_registry
from pipeline_platform.local_run import LocalRunError, run_in_local_docker
from pipeline_platform.pants import PantsError, private_daemon
from pipeline_platform.planning import plan_report, problems_report
from pipeline_platform.problems import DeployError
from pipeline_platform.register import PipelineOutcome, PruneResult
from pipeline_platform.repo import pipeline_dirs
from pipeline_platform.reporter import Reporter, outcome_report
from pipeline_platform.retries import RetryPolicy, retried
from pipeline_platform.session import Server, configured_api_url, ensure_server, session
from pipeline_platform.spec import PipelineSpec, load_specs
from pipelines.common.naming import WORK_POOLS


@dataclass(frozen=True)
class Options:
    environment: str
    changed_since: str | None = None
    pipeline: str | None = None
    all: bool = False
    dry_run: bool = False
    prune: bool = False
    run: str | None = None
    check: bool = False  # deploy_prefect_flows.py --check: drift.check instead of a deploy
    # A throwaway runner: once the base and deps images are built, the images pulled to seed layers and the
    # build stages' leftovers are deleted (a workstation keeps them: they are its build cache).
    free_disk: bool = False


@dataclass(frozen=True)
class _Deploy:
    """What the server phase needs from the steps before it."""

    repo: Path
    options: Options
    plan: Plan
    specs: dict[str, PipelineSpec]
    tag: str
    registry: str | None
    server: Server
    keep: set[str] | DeployError | None
    report: Reporter


def deploy(repo: Path, options: Options, console: Console) -> int:
    # A dry run queries Pants once; a deploy queries, then builds: one daemon for both saves a Pants start-up.
    with contextlib.nullcontext() if options.dry_run else private_daemon(repo):
        return _deploy(repo, options, Reporter(console))


def _deploy(repo: Path, options: Options, report: Reporter) -> int:
    started = time.monotonic()
    plan = plan_for(repo, every=options.all, pipeline=options.pipeline, changed_since=options.changed_since)
    report.planned(plan, started)
    validation_started = time.monotonic()
    specs, problems = load_specs(repo, plan.names())
    report.validated(len(plan.pipelines), validation_started)
    tag = image_tag(repo)
    registry = image_registry()
    report.table(plan_report(plan, specs, options.environment, tag, registry, dry_run=options.dry_run))
    if problems:
        report.problems(problems, problems_report(problems))
        return 1
    if options.dry_run:
        report.dry_run(options.environment, options.prune, started)
        return 0
    if not plan.pipelines and not options.prune and not options.run:
        report.nothing_to_deploy(started)
        return 0
    # Before the server and the builds: an engine that cannot get the OS image would fail every image.
    building = bool(plan.to_build) and docker_cli.unavailable_reason() is None
    if building and (missing_os_image := images.os_image_problem(repo)):
        raise DeployError(f"no OS image to build the images on: {missing_os_image}")
    keep = _prune_keep_set(repo, options.environment) if options.prune else None
    if options.run and configured_api_url() is not None:
        raise DeployError("--run works in embedded mode only: unset PREFECT_API_URL")
    server = ensure_server(repo)
    report.server(server)
    run = _Deploy(repo, options, plan, specs, tag, registry, server, keep, report)
    outcomes, pruned, run_ok = asyncio.run(_with_server(run))
    failed = [outcome for outcome in outcomes if not outcome.ok]
    report.table(outcome_report(outcomes, options.environment, time.monotonic() - started, pruned))
    if server.embedded:
        report.embedded_ui(server, _server_pid(repo))
    prune_failed = pruned is not None and pruned.error is not None
    return 1 if failed or prune_failed or not run_ok else 0


async def _with_server(run: _Deploy) -> tuple[list[PipelineOutcome], PruneResult | None, bool]:
    """Steps 3 to 7 in one client session: pools, current images, build, register, prune, run."""
    environment = run.options.environment
    policy = RetryPolicy.from_env()
    async with session(run.server.api_url) as client:
        if run.server.embedded:
            templates = pools.load_pool_templates(run.repo)
            run.report.pools(await retried(policy, lambda: pools.apply_pools(client, templates, WORK_POOLS)))
        to_build, kept = await _split_by_image(client, run, policy)
        replaced = await _current_images(client, run, to_build, policy) if run.registry else []
        built = await asyncio.to_thread(_build, run, to_build, replaced)
        outcomes = await _register(client, run, {**kept, **built}, policy)
        pruned = (
            await _prune(client, environment, run.keep, run.report, policy) if run.keep is not None else None
        )
        run_ok = await _run_locally(client, run.options.run, run.report, policy) if run.options.run else True
    return outcomes, pruned, run_ok


async def _split_by_image(
    client: PrefectClient, run: _Deploy, policy: RetryPolicy
) -> tuple[list[AffectedPipeline], dict[str, ImageResult]]:
    """Pipelines whose image must be built, and the images kept by prefect.yaml-only changes."""
    to_build = list(run.plan.to_build)
    kept: dict[str, ImageResult] = {}
    environment = run.options.environment
    for item in run.plan.pipelines:
        if item.action.builds_image:
            continue
        name = item.pipeline.dir_name
        try:
            current = await register.read_current_image(client, run.specs[name], environment, policy)
        except Exception as error:
            raise DeployError(
                f"cannot read the current deployments: {register.describe_error(error)}"
            ) from error
        if current is None:
            run.report.no_image_yet(name, environment)
            reason = Reason(f"{item.reason.changed} (no image registered yet)", item.reason.path)
            to_build.append(replace(item, action=Action.BUILD_AND_REGISTER, reason=reason))
        else:
            kept[name] = ImageResult(item.pipeline, current, ImageStatus.KEPT)
    return to_build, kept


async def _current_images(
    client: PrefectClient, run: _Deploy, to_build: Sequence[AffectedPipeline], policy: RetryPolicy
) -> list[str]:
    """The images the deployments of ``to_build`` run now (none for a first deploy)."""
    current: list[str] = []
    for item in to_build:
        # Only an optimisation: without it, layers are uploaded again.
        with contextlib.suppress(Exception):
            spec = run.specs[item.pipeline.dir_name]
            if image := await register.read_current_image(client, spec, run.options.environment, policy):
                current.append(image)
    return current


def _build(
    run: _Deploy, to_build: Sequence[AffectedPipeline], replaced: Sequence[str]
) -> dict[str, ImageResult]:
    pipelines = [item.pipeline for item in to_build]
    if not pipelines:
        return {}
    registry, tag, report = run.registry, run.tag, run.report
    reason = docker_cli.unavailable_reason()
    if reason is not None:
        embedded = run.server.embedded
        report.docker_unavailable(reason, embedded)
        status = ImageStatus.NOT_BUILT if embedded else ImageStatus.FAILED
        return {
            pipeline.dir_name: ImageResult(
                pipeline, planned_reference(pipeline, tag, registry), status, reason
            )
            for pipeline in pipelines
        }
    seed = None
    base, base_image, deps = None, None, []
    if registry:
        started = time.monotonic()
        base = published.find_base(run.repo, registry)
        report.base(base, started)
        try:
            # A base not published for these inputs is built first: deps images are looked up by its layers.
            base_image = base.published
            if base_image is None:
                started = time.monotonic()
                base_image = published.build_base(run.repo, registry, tag)
                report.base_built(base_image, started)
                # Seeded after: the replaced images' layers are not on the disk while the base builds.
                _free_disk(run, None, (images.BASE_STAGE,))
        except PantsError as error:
            report.deps_not_looked_up(error)
    if replaced:
        seeded = time.monotonic()
        seed = images.seed_layers(replaced)
        report.seeded(seed, seeded)
    if registry and base_image is not None:
        try:
            started = time.monotonic()
            layers = published.base_layers_key(base_image)
            if layers is not None:
                deps = published.find_deps(run.repo, registry, pipelines, layers)
                report.deps(deps, started)
                # Before the deps stages fill the disk: the seeded images are done with.
                seed = _free_disk(run, seed, ())
                started = time.monotonic()
                deps, built_deps = published.build_missing_deps(
                    run.repo, registry, tag, base_image, deps, after_each=_stage_dropper(run)
                )
                report.deps_built(built_deps, deps, started)
        except (PantsError, published.DepsKeyError) as error:  # an optimisation: the build says what is wrong
            report.deps_not_looked_up(error)
    _free_disk(run, seed, ())
    report.building(len(pipelines), tag, registry)
    started = time.monotonic()
    results = images.build_images(
        run.repo, pipelines, tag, registry, published.build_options(base_image, deps)
    )
    if registry and base is not None and base.published is None and any(not r.status.failed for r in results):
        report.published(base, published.publish(published.base_built_reference(registry, tag), base))
    report.images_done(results, started)
    return {result.pipeline.dir_name: result for result in results}


def _free_disk(run: _Deploy, seed: images.Seeded | None, stages: Sequence[str]) -> images.Seeded | None:
    """With --free-disk, deletes the seeded images and what ``stages`` left; the seed still to delete."""
    if not run.options.free_disk:
        return seed
    started = time.monotonic()
    freed = []
    if seed is not None:
        not_forgotten = images.forget_seeded(seed)
        freed.append(
            "pulled images deleted" if not_forgotten is None else f"pulled images kept ({not_forgotten})"
        )
    if stages:
        freed.append(f"build stages pruned ({images.drop_build_stages(run.tag, stages)})")
    if freed:
        run.report.disk_freed(freed, started)
    return None


def _stage_dropper(run: _Deploy) -> Callable[[], None] | None:
    """With --free-disk, what deletes a deps build's stage before the next deps build (they are built one at a
    time then: finished stages would otherwise pile up until the last)."""
    if not run.options.free_disk:
        return None

    def drop_deps_stage() -> None:
        _free_disk(run, None, (images.DEPS_STAGE,))

    return drop_deps_stage


async def _register(
    client: PrefectClient, run: _Deploy, images_by_pipeline: dict[str, ImageResult], policy: RetryPolicy
) -> list[PipelineOutcome]:
    environment = run.options.environment
    outcomes: list[PipelineOutcome] = []
    started = time.monotonic()
    for item in run.plan.pipelines:
        name = item.pipeline.dir_name
        spec = run.specs[name]
        image = images_by_pipeline[name]
        if image.status.failed:
            skipped = [
                register.DeploymentOutcome(deployment.name, error="not registered (no image)")
                for deployment in spec.for_environment(environment)
            ]
            error = f"image: {image.cause or images.telling_line(image.detail)}"
            outcomes.append(PipelineOutcome(spec, name, image, skipped, error=error))
            continue
        outcome = await register.register_pipeline(
            client, spec, environment, image, run.tag, policy, run.report.retry
        )
        outcomes.append(outcome)
        run.report.registered_pipeline(outcome)
    run.report.registered(outcomes, started)
    return outcomes


async def _prune(
    client: PrefectClient,
    environment: str,
    keep: set[str] | DeployError,
    report: Reporter,
    policy: RetryPolicy,
) -> PruneResult:
    if isinstance(keep, DeployError):
        return PruneResult(error=str(keep))
    try:
        removed = await retried(policy, lambda: register.prune(client, environment, keep))
    except Exception as error:
        return PruneResult(error=register.describe_error(error))
    report.pruned(environment, removed)
    return PruneResult(tuple(removed))


async def _run_locally(client: PrefectClient, deployment: str, report: Reporter, policy: RetryPolicy) -> bool:
    try:
        result = await run_in_local_docker(client, deployment, printer=report.console.print, policy=policy)
    except LocalRunError as error:
        report.run_failed(deployment, error)
        return False
    report.run_ended(deployment, result)
    return result.state.is_completed()


def _prune_keep_set(repo: Path, environment: str) -> set[str] | DeployError:
    """``flow/name`` of every deployment of the environment in the repository (all prefect.yaml valid)."""
    specs, problems = load_specs(repo, [path.name for path in pipeline_dirs(repo)])
    if problems:
        listed = "; ".join(str(problem) for problem in problems[:3])
        return DeployError(f"not pruned: every prefect.yaml must be valid to know what to keep ({listed})")
    return {
        deployment.full_name for spec in specs.values() for deployment in spec.for_environment(environment)
    }


def _server_pid(repo: Path) -> str:
    pid_file = local_server.default_home(repo) / "server.pid"
    return pid_file.read_text().strip() if pid_file.is_file() else "<pid>"
