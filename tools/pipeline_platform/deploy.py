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
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_CLIENT_MAX_RETRIES,
    get_current_settings,
    temporary_settings,
)
from rich.console import Console

from pipeline_platform import base_image, deps_image, images, local_server, pools, register
from pipeline_platform.affected import (
    Action,
    AffectedPipeline,
    Plan,
    Reason,
    plan_all,
    plan_pipeline,
    plan_since,
)
from pipeline_platform.images import ImageResult, ImageStatus
from pipeline_platform.local_run import LocalRunError, run_in_local_docker
from pipeline_platform.pants import PantsError, private_daemon
from pipeline_platform.planning import plan_report, problems_report
from pipeline_platform.register import PipelineOutcome, RetryPolicy
from pipeline_platform.repo import NULL_SHA, default_base_revision, pipeline_dirs, resolve_revision
from pipeline_platform.spec import PipelineSpec, Problem, SpecError, load_pipeline
from pipeline_platform.summary import Report, append_step_summary, show
from pipelines.common.naming import WORK_POOLS, PipelineName


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


class DeployError(RuntimeError):
    """A reason to stop before registering anything (printed without a traceback)."""


def make_plan(repo: Path, options: Options) -> Plan:
    if options.all:
        return plan_all(repo)
    if options.pipeline:
        return plan_pipeline(repo, options.pipeline)
    since = options.changed_since if options.changed_since not in (None, "", NULL_SHA) else None
    if since is None:
        base = default_base_revision(repo)
        return plan_since(repo, base, f"changes since {base[:12]} (merge base with master)")
    return plan_since(repo, resolve_revision(repo, since), f"changes since {since}")


def load_specs(repo: Path, names: Sequence[str]) -> tuple[dict[str, PipelineSpec], list[Problem]]:
    templates = pools.load_pool_templates(repo)
    specs: dict[str, PipelineSpec] = {}
    problems: list[Problem] = []
    for name in names:
        try:
            specs[name] = load_pipeline(repo / "pipelines" / name, templates)
        except SpecError as error:
            problems.extend(error.problems)
    return specs, problems


def deploy(repo: Path, options: Options, console: Console) -> int:
    # A dry run queries Pants once; a deploy queries, then builds: one daemon for both saves a Pants start-up.
    with contextlib.nullcontext() if options.dry_run else private_daemon(repo):
        return _deploy(repo, options, console)


def _deploy(repo: Path, options: Options, console: Console) -> int:
    started = time.monotonic()
    plan = make_plan(repo, options)
    console.print(f"Plan: {len(plan.pipelines)} pipeline(s), {plan.description} ({_since(started)}).")
    validation_started = time.monotonic()
    specs, problems = load_specs(repo, plan.names())
    console.print(f"Validated {len(plan.pipelines)} prefect.yaml ({_since(validation_started)}).")
    tag = images.image_tag(repo)
    registry = images.registry()
    show(console, plan_report(plan, specs, options.environment, tag, registry, dry_run=options.dry_run))
    if problems:
        for problem in problems:
            console.print(f"[red]{problem}[/]", highlight=False)
        append_step_summary(problems_report(problems).to_markdown())
        console.print(f"[bold red]{len(problems)} problem(s): nothing was built or registered.[/]")
        return 1
    if options.dry_run:
        if options.prune:
            console.print(
                f"--prune: {options.environment} deployments that no prefect.yaml declares would be deleted."
            )
        console.print(f"Dry run: nothing built or registered ({time.monotonic() - started:.1f} s).")
        return 0
    if not plan.pipelines and not options.prune and not options.run:
        console.print(f"Nothing to deploy ({_since(started)}).")
        return 0
    # Before the server and the builds: an engine that cannot get the OS image would fail every image.
    building = bool(plan.to_build) and images.docker_unavailable_reason() is None
    if building and (missing_os_image := images.os_image_problem(repo)):
        raise DeployError(f"no OS image to build the images on: {missing_os_image}")
    keep = _prune_keep_set(repo, options) if options.prune else None

    configured = get_current_settings().api.url
    embedded = configured is None
    if options.run and not embedded:
        raise DeployError("--run works in embedded mode only: unset PREFECT_API_URL")
    if embedded:
        server = local_server.ensure_local_server(
            local_server.default_home(repo), local_server.default_port()
        )
        verb = "Started" if server.started_now else "Reusing"
        console.print(f"{verb} the embedded Prefect server at {server.url} (SQLite in {server.home}).")
        api_url = server.api_url
    else:
        api_url = str(configured)
        console.print(f"Prefect API: {api_url}")

    # The retry policy below is the only one: the client's own retries would multiply the waits.
    with temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_CLIENT_MAX_RETRIES: 0}):
        if embedded:
            asyncio.run(_apply_pools(repo, console))
        to_build, kept = asyncio.run(
            _split_by_image(plan, specs, options.environment, tag, registry, console)
        )
        replaced = asyncio.run(_current_images(to_build, specs, options.environment)) if registry else []
        built = _build(repo, to_build, tag, registry, embedded, console, replaced)
        outcomes = asyncio.run(_register(plan, specs, options.environment, {**kept, **built}, tag, console))
        pruned = asyncio.run(_prune(options.environment, keep, console)) if keep is not None else None
        run_ok = asyncio.run(_run_locally(options.run, console)) if options.run else True
    failed = [outcome for outcome in outcomes if not outcome.ok]
    show(console, outcome_report(outcomes, options.environment, time.monotonic() - started, pruned))
    if embedded:
        console.print(
            f"\nPrefect UI: [bold]{api_url.removesuffix('/api')}[/] (open it in a browser; the server keeps "
            f"running — stop it with `kill -TERM -{_server_pid(repo)}`)."
        )
    prune_failed = pruned is not None and pruned.error is not None
    return 1 if failed or prune_failed or not run_ok else 0


async def _apply_pools(repo: Path, console: Console) -> None:
    templates = pools.load_pool_templates(repo)
    async with get_client() as client:
        changes = await pools.apply_pools(client, templates, WORK_POOLS)
    console.print("Work pools: " + ", ".join(f"{change.name} {change.action}" for change in changes))


async def _split_by_image(
    plan: Plan,
    specs: dict[str, PipelineSpec],
    environment: str,
    tag: str,
    registry: str | None,
    console: Console,
) -> tuple[list[AffectedPipeline], dict[str, ImageResult]]:
    """Pipelines whose image must be built, and the images kept by prefect.yaml-only changes."""
    to_build = list(plan.to_build)
    kept: dict[str, ImageResult] = {}
    register_only = [item for item in plan.pipelines if not item.action.builds_image]
    if not register_only:
        return to_build, kept
    policy = RetryPolicy.from_env()
    async with get_client() as client:
        for item in register_only:
            spec = specs[item.pipeline.dir_name]

            async def read(spec: PipelineSpec = spec) -> str | None:
                return await register.current_image(client, spec, environment)

            try:
                current, _ = await register.with_retries(policy, read)
            except Exception as error:
                raise DeployError(
                    f"cannot read the current deployments: {register.describe_error(error)}"
                ) from error
            if current is None:
                console.print(
                    f"{item.pipeline.dir_name}: no image registered in {environment} yet, building one."
                )
                reason = Reason(f"{item.reason.changed} (no image registered yet)", item.reason.path)
                to_build.append(replace(item, action=Action.BUILD_AND_REGISTER, reason=reason))
            else:
                kept[item.pipeline.dir_name] = ImageResult(item.pipeline, current, ImageStatus.KEPT)
    return to_build, kept


async def _current_images(
    to_build: Sequence[AffectedPipeline], specs: dict[str, PipelineSpec], environment: str
) -> list[str]:
    """The images the deployments of ``to_build`` run now (none for a first deploy)."""
    policy = RetryPolicy.from_env()
    current: list[str] = []
    async with get_client() as client:
        for item in to_build:
            spec = specs[item.pipeline.dir_name]

            async def read(spec: PipelineSpec = spec) -> str | None:
                return await register.current_image(client, spec, environment)

            with contextlib.suppress(
                Exception
            ):  # only an optimisation: without it, layers are uploaded again
                image, _ = await register.with_retries(policy, read)
                if image:
                    current.append(image)
    return current


def _build(
    repo: Path,
    to_build: Sequence[AffectedPipeline],
    tag: str,
    registry: str | None,
    embedded: bool,
    console: Console,
    replaced: Sequence[str] = (),
) -> dict[str, ImageResult]:
    pipelines = [item.pipeline for item in to_build]
    if not pipelines:
        return {}
    reason = images.docker_unavailable_reason()
    if reason is not None:
        status = ImageStatus.NOT_BUILT if embedded else ImageStatus.FAILED
        console.print(f"[bold yellow]{reason}[/]")
        if embedded:
            console.print(
                "[bold yellow]Images NOT built: deployments are registered with the tags they would have.[/]"
            )
        return {
            pipeline.dir_name: ImageResult(
                pipeline, images.planned_reference(pipeline, tag, registry), status, reason
            )
            for pipeline in pipelines
        }
    if replaced:
        seeded = time.monotonic()
        seed = images.seed_layers(replaced)
        console.print(
            f"Pulled {len(seed.pulled)} image(s) being replaced, so unchanged layers are not uploaded again "
            f"({_since(seeded)})."
        )
        for reference, why in seed.failed.items():
            console.print(
                f"[yellow]Not pulled: {reference} ({why}); its unchanged layers may be uploaded again.[/]",
                highlight=False,
            )
    base = _published_base(repo, registry, console) if registry else None
    deps = _published_deps(repo, registry, pipelines, base, console) if registry and base else []
    where = f"pushed to {registry}" if registry else f"kept local (no {images.REGISTRY_ENV})"
    console.print(f"Building {len(pipelines)} image(s) with Pants, tag {tag}, {where}...")
    started = time.monotonic()
    options = [*base.build_options(), *deps_image.build_options(deps)] if base else []
    results = images.build_images(repo, pipelines, tag, registry, options)
    if base and registry and base.published is None and any(not r.status.failed for r in results):
        _publish_base(base, base_image.sha_reference(registry, tag), console)
    if registry:
        built = {result.pipeline for result in results if not result.status.failed}
        _publish_deps(
            [item for item in deps if not item.published and item.pipeline in built], registry, tag, console
        )
    for result in results:
        if result.status.failed:
            console.print(
                f"[red]{result.pipeline.dir_name}: image build failed:[/]\n{result.detail}", highlight=False
            )
    console.print(f"Images done in {time.monotonic() - started:.1f} s.")
    return {result.pipeline.dir_name: result for result in results}


def _published_base(repo: Path, registry: str, console: Console) -> base_image.BaseImage:
    """The base published for this checkout's inputs (pulled), so the images build on it, not on a rebuild."""
    started = time.monotonic()
    base = base_image.find_published(repo, registry)
    if base.published:
        what = f"{base.published}, published for these inputs: not rebuilt"
    else:
        what = (
            f"none at {base.inputs_reference} ({base.why_not}): //:base is built (reproducible) and published"
        )
    console.print(f"Base image: {what} ({_since(started)}).", highlight=False)
    return base


def _published_deps(
    repo: Path,
    registry: str,
    pipelines: Sequence[PipelineName],
    base: base_image.BaseImage,
    console: Console,
) -> list[deps_image.DepsImage]:
    """The pipelines' deps images published for these inputs (pulled), so that no deps stage is rebuilt."""
    started = time.monotonic()
    try:
        found = deps_image.find_published(repo, registry, pipelines, base.inputs_key)
    except PantsError as error:  # only an optimisation: the build then reports what is wrong
        console.print(f"[yellow]Deps images: not looked up ({_last_line(str(error))}).[/]", highlight=False)
        return []
    reused = [item for item in found if item.published]
    console.print(
        f"Deps images: {len(reused)} of {len(found)} published for these inputs, reused "
        f"({_since(started)}).",
        highlight=False,
    )
    for item in found:
        if not item.published:
            console.print(
                f"  {item.pipeline.dir_name}: none at {item.inputs_reference} ({item.why_not}): "
                "its deps stage is built (reproducible) and published",
                highlight=False,
            )
    return found


def _publish_deps(missing: Sequence[deps_image.DepsImage], registry: str, tag: str, console: Console) -> None:
    for item in missing:
        published = deps_image.publish_built(item, registry, tag)
        if published:
            console.print(f"Deps image published as {published}.", highlight=False)
        else:
            console.print(
                f"[yellow]Deps image: {item.inputs_reference} not pushed; the next deploy rebuilds it.[/]",
                highlight=False,
            )


def _publish_base(base: base_image.BaseImage, built: str, console: Console) -> None:
    published = base_image.publish(built, base.inputs_reference)
    if published:
        console.print(f"Base image published as {published}: the next deploys build on it.", highlight=False)
    else:
        # Only an optimisation: the images are pushed; the next deploy rebuilds the base (same layers).
        console.print(
            f"[yellow]Base image: {base.inputs_reference} not pushed; the next deploy rebuilds it.[/]"
        )


async def _register(
    plan: Plan,
    specs: dict[str, PipelineSpec],
    environment: str,
    images_by_pipeline: dict[str, ImageResult],
    tag: str,
    console: Console,
) -> list[PipelineOutcome]:
    policy = RetryPolicy.from_env()
    outcomes: list[PipelineOutcome] = []

    def on_retry(name: str, attempt: int, error: BaseException, sleep: float) -> None:
        console.print(
            f"  [yellow]{name}: attempt {attempt} failed ({register.describe_error(error)}); "
            f"retrying in {sleep:.1f} s[/]"
        )

    started = time.monotonic()
    async with get_client() as client:
        for item in plan.pipelines:
            name = item.pipeline.dir_name
            image = images_by_pipeline[name]
            if image.status.failed:
                skipped = [
                    register.DeploymentOutcome(deployment.name, error="not registered (no image)")
                    for deployment in specs[name].for_environment(environment)
                ]
                error = f"image: {image.cause or _last_line(image.detail)}"
                outcomes.append(PipelineOutcome(specs[name], name, image, skipped, error=error))
                continue
            outcome = await register.register_pipeline(
                client, specs[name], environment, image, tag, policy, on_retry
            )
            outcomes.append(outcome)
            status = "ok" if outcome.ok else "[red]FAILED[/]"
            console.print(f"{name}: {len(outcome.deployments)} deployment(s) {status}")
    registered = sum(1 for outcome in outcomes for item in outcome.deployments if item.ok)
    console.print(f"Registered {registered} deployment(s) in {time.monotonic() - started:.2f} s.")
    return outcomes


@dataclass(frozen=True)
class PruneResult:
    removed: tuple[str, ...] = ()
    error: str | None = None


async def _prune(environment: str, keep: set[str] | DeployError, console: Console) -> PruneResult:
    if isinstance(keep, DeployError):
        return PruneResult(error=str(keep))
    try:
        async with get_client() as client:
            removed = await register.prune(client, environment, keep)
    except Exception as error:
        return PruneResult(error=register.describe_error(error))
    console.print(f"Pruned {len(removed)} deployment(s) of {environment}: {', '.join(removed) or 'none'}")
    return PruneResult(tuple(removed))


async def _run_locally(deployment: str, console: Console) -> bool:
    async with get_client() as client:
        try:
            result = await run_in_local_docker(client, deployment, printer=console.print)
        except LocalRunError as error:
            console.print(f"[bold red]--run {deployment}: {error}[/]")
            return False
    colour = "green" if result.state.is_completed() else "red"
    console.print(
        f"--run {deployment}: flow run {result.flow_run_name!r} in {result.image} ended "
        f"[bold {colour}]{result.state.name}[/] ({result.state.message or 'no message'})"
    )
    return result.state.is_completed()


def _prune_keep_set(repo: Path, options: Options) -> set[str] | DeployError:
    """``flow/name`` of every deployment of the environment in the repository (all prefect.yaml valid)."""
    specs, problems = load_specs(repo, [path.name for path in pipeline_dirs(repo)])
    if problems:
        listed = "; ".join(str(problem) for problem in problems[:3])
        return DeployError(f"not pruned: every prefect.yaml must be valid to know what to keep ({listed})")
    return {
        deployment.full_name
        for spec in specs.values()
        for deployment in spec.for_environment(options.environment)
    }


def outcome_report(
    outcomes: Sequence[PipelineOutcome], environment: str, seconds: float, pruned: PruneResult | None = None
) -> Report:
    rows: list[tuple[str, ...]] = []
    for outcome in outcomes:
        image = outcome.image
        image_cell = "" if image is None else f"{image.reference}\n{image.status.value}"
        deployments = "\n".join(
            item.name if item.ok else f"{item.name}: {item.error}" for item in outcome.deployments
        )
        if outcome.ok:
            result = "ok" + (f" ({outcome.retries} retried attempt(s))" if outcome.retries else "")
            if image is not None and image.status is ImageStatus.NOT_BUILT:
                result += " — image NOT BUILT"
        else:
            done = sum(1 for item in outcome.deployments if item.ok)
            result = f"FAILED ({done}/{len(outcome.deployments)} registered)"
            if outcome.error:
                result += f": {outcome.error}"
        rows.append((outcome.pipeline_dir_name, image_cell, deployments or "-", result))
    failed = sum(1 for outcome in outcomes if not outcome.ok)
    notes = [f"{len(outcomes) - failed} pipeline(s) ok, {failed} failed, {seconds:.1f} s"]
    if pruned is not None:
        notes.append(
            f"--prune FAILED: {pruned.error}"
            if pruned.error
            else f"--prune deleted {len(pruned.removed)}: {', '.join(pruned.removed) or 'nothing'}"
        )
    return Report(f"Deploy to {environment}", ("Pipeline", "Image", "Deployments", "Result"), rows, notes)


def _last_line(text: str, limit: int = 240) -> str:
    """The most telling line of an error output: the last one naming an error, else the last one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    telling = [line for line in lines if re.search(r"error|exception|failed", line, re.IGNORECASE)]
    return (telling or lines or [text])[-1][:limit]


def _since(started: float) -> str:
    return f"{time.monotonic() - started:.1f} s"


def _server_pid(repo: Path) -> str:
    pid_file = local_server.default_home(repo) / "server.pid"
    return pid_file.read_text().strip() if pid_file.is_file() else "<pid>"
