"""What a deploy tells its user: every line it prints and the tables (terminal and $GITHUB_STEP_SUMMARY).

deploy.py says what happened; this module says how it reads.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

from rich.console import Console

from pipeline_platform.affected import Plan
from pipeline_platform.image_refs import REGISTRY_ENV, ImageResult, ImageStatus
from pipeline_platform.images import Seeded, telling_line
from pipeline_platform.local_run import LocalRunResult
from pipeline_platform.pools import PoolChange
from pipeline_platform.problems import Problem
from pipeline_platform.published import Published
from pipeline_platform.register import PipelineOutcome, PruneResult, describe_error
from pipeline_platform.session import Server
from pipeline_platform.summary import Report, append_step_summary, show


def since(started: float) -> str:
    return f"{time.monotonic() - started:.1f} s"


class Reporter:
    def __init__(self, console: Console) -> None:
        self.console = console

    def _say(self, text: str, *, highlight: bool | None = None) -> None:
        if highlight is None:
            self.console.print(text)
        else:
            self.console.print(text, highlight=highlight)

    def table(self, *reports: Report) -> None:
        show(self.console, *reports)

    # --- plan and validation

    def planned(self, plan: Plan, started: float) -> None:
        self._say(f"Plan: {len(plan.pipelines)} pipeline(s), {plan.description} ({since(started)}).")

    def validated(self, count: int, started: float) -> None:
        self._say(f"Validated {count} prefect.yaml ({since(started)}).")

    def problems(self, problems: Sequence[Problem], report: Report) -> None:
        for problem in problems:
            self._say(f"[red]{problem}[/]", highlight=False)
        append_step_summary(report.to_markdown())
        self._say(f"[bold red]{len(problems)} problem(s): nothing was built or registered.[/]")

    def dry_run(self, environment: str, prune: bool, started: float) -> None:
        if prune:
            self._say(f"--prune: {environment} deployments that no prefect.yaml declares would be deleted.")
        self._say(f"Dry run: nothing built or registered ({since(started)}).")

    def nothing_to_deploy(self, started: float) -> None:
        self._say(f"Nothing to deploy ({since(started)}).")

    # --- server

    def server(self, server: Server) -> None:
        if server.embedded:
            verb = "Started" if server.started_now else "Reusing"
            self._say(f"{verb} the embedded Prefect server at {server.ui_url} (SQLite in {server.home}).")
        else:
            self._say(f"Prefect API: {server.api_url}")

    def pools(self, changes: Sequence[PoolChange]) -> None:
        self._say("Work pools: " + ", ".join(f"{change.name} {change.action}" for change in changes))

    def no_image_yet(self, pipeline: str, environment: str) -> None:
        self._say(f"{pipeline}: no image registered in {environment} yet, building one.")

    def embedded_ui(self, server: Server, pid: str) -> None:
        self._say(
            f"\nPrefect UI: [bold]{server.ui_url}[/] (open it in a browser; the server keeps "
            f"running — stop it with `kill -TERM -{pid}`)."
        )

    # --- images

    def docker_unavailable(self, reason: str, embedded: bool) -> None:
        self._say(f"[bold yellow]{reason}[/]")
        if embedded:
            self._say(
                "[bold yellow]Images NOT built: deployments are registered with the tags they would have.[/]"
            )

    def seeded(self, seed: Seeded, started: float) -> None:
        self._say(
            f"Pulled {len(seed.pulled)} image(s) being replaced, so unchanged layers are not uploaded again "
            f"({since(started)})."
        )
        for reference, why in seed.failed.items():
            self._say(
                f"[yellow]Not pulled: {reference} ({why}); its unchanged layers may be uploaded again.[/]",
                highlight=False,
            )

    def base(self, base: Published, started: float) -> None:
        if base.published:
            what = f"{base.published}, published for these inputs: not rebuilt"
        else:
            what = f"none at {base.inputs_reference} ({base.why_not}): "
            what += "//:base is built (reproducible) and published"
        self._say(f"Base image: {what} ({since(started)}).", highlight=False)

    def base_built(self, reference: str, started: float) -> None:
        self._say(f"Base image built: {reference} ({since(started)}).", highlight=False)

    def deps_not_looked_up(self, error: Exception) -> None:
        self._say(
            f"[yellow]Deps images: not looked up or built ahead ({telling_line(str(error))}): each image "
            "builds its own.[/]",
            highlight=False,
        )

    def deps(self, found: Sequence[Published], started: float) -> None:
        reused = [item for item in found if item.published]
        images = {item.inputs_reference for item in found}
        self._say(
            f"Deps images: {len(reused)} of {len(found)} published for these inputs, reused; "
            f"{len(images)} distinct ({since(started)}).",
            highlight=False,
        )
        missing = Counter(item.inputs_reference for item in found if not item.published)
        why = {item.inputs_reference: item.why_not for item in found}
        for reference, count in missing.items():
            self._say(
                f"  none at {reference} ({why[reference]}): built once for {count} pipeline(s)",
                highlight=False,
            )

    def deps_built(self, built: Sequence[Published], deps: Sequence[Published], started: float) -> None:
        if not built:
            return
        for item in built:
            self.published(item, item.published)
        references = {item.inputs_reference for item in built if item.published}
        served = sum(1 for item in deps if item.inputs_reference in references)
        self._say(
            f"Deps images: {len(built)} built and published for {served} pipeline(s) ({since(started)}).",
            highlight=False,
        )

    def disk_freed(self, freed: Sequence[str], started: float) -> None:
        self._say(f"Disk freed for the image builds: {'; '.join(freed)} ({since(started)}).", highlight=False)

    def building(self, count: int, tag: str, registry: str | None) -> None:
        where = f"pushed to {registry}" if registry else f"kept local (no {REGISTRY_ENV})"
        self._say(f"Building {count} image(s) with Pants, tag {tag}, {where}...")

    def published(self, image: Published, reference: str | None) -> None:
        """The base (``image.pipeline`` None) or a deps image tagged with its inputs and pushed, or not."""
        if image.pipeline is None and reference:
            self._say(f"Base image published as {reference}: the next deploys build on it.", highlight=False)
        elif reference:
            self._say(f"Deps image published as {reference}.", highlight=False)
        else:
            # Only an optimisation: the images are pushed; the next deploy rebuilds it (same layers).
            what = "Base image" if image.pipeline is None else "Deps image"
            self._say(
                f"[yellow]{what}: {image.inputs_reference} not pushed; the next deploy rebuilds it.[/]",
                highlight=False,
            )

    def images_done(self, results: Sequence[ImageResult], started: float) -> None:
        for result in results:
            if result.status.failed:
                self._say(
                    f"[red]{result.pipeline.dir_name}: image build failed:[/]\n{result.detail}",
                    highlight=False,
                )
        self._say(f"Images done in {since(started)}.")

    # --- registration, pruning, the local run

    def retry(self, name: str, attempt: int, error: BaseException, sleep: float) -> None:
        self._say(
            f"  [yellow]{name}: attempt {attempt} failed ({describe_error(error)}); "
            f"retrying in {sleep:.1f} s[/]"
        )

    def registered_pipeline(self, outcome: PipelineOutcome) -> None:
        status = "ok" if outcome.ok else "[red]FAILED[/]"
        self._say(f"{outcome.pipeline_dir_name}: {len(outcome.deployments)} deployment(s) {status}")

    def registered(self, outcomes: Sequence[PipelineOutcome], started: float) -> None:
        registered = sum(1 for outcome in outcomes for item in outcome.deployments if item.ok)
        self._say(f"Registered {registered} deployment(s) in {time.monotonic() - started:.2f} s.")

    def pruned(self, environment: str, removed: Sequence[str]) -> None:
        self._say(f"Pruned {len(removed)} deployment(s) of {environment}: {', '.join(removed) or 'none'}")

    def run_failed(self, deployment: str, error: Exception) -> None:
        self._say(f"[bold red]--run {deployment}: {error}[/]")

    def run_ended(self, deployment: str, result: LocalRunResult) -> None:
        colour = "green" if result.state.is_completed() else "red"
        self._say(
            f"--run {deployment}: flow run {result.flow_run_name!r} in {result.image} ended "
            f"[bold {colour}]{result.state.name}[/] ({result.state.message or 'no message'})"
        )


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
