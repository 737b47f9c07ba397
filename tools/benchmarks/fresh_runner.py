"""Benchmark: a push deployed on a fresh CI runner vs on a warm one, side by side (docs/benchmarks.md).

    ./pants run tools/benchmarks/fresh_runner.py -- --sizes 3,200 --workdir /tmp/bench-fresh-runner

Not a test. For each size, in a throwaway copy with N generated pipelines (generate_monorepo.py):
  1. services of its own: Debian's docker-registry on 127.0.0.1 behind a byte-counting relay, a Prefect
     server (SQLite, its own home) with the work pools, an empty second Docker engine with only the OS image;
  2. the caches the workflows restore, copied from this machine's into one place that every runner uses
     (the launcher's, Pants's named caches and Pants's local store), and one checkout path, as on GitHub
     (Pants's cache keys may hold paths);
  3. the previous deploy (not measured): a change to P deployed with `--changed-since HEAD~1` from a new
     checkout, with those caches and this machine's engine, pushed to the registry (a runner that deployed
     before and saved its caches);
  4. "fresh": a new checkout at the same path, a one-line comment (unique to this run) appended to P's
     tasks.py and committed, the caches as the previous runner left them (no pantsd), the second engine; the
     real deploy tool, `--environment staging --changed-since HEAD~1`, pushing to the registry;
  5. "warm": the same again right after (a new comment) on the same clone, caches and engine.
For each deploy: wall per phase, bytes uploaded to the registry, registry growth, new blobs with sizes, and
for every layer whether its digest equals the previous deploy's. `./pants --no-pantsd --version` on the fresh
clone (the workflow's bootstrap step) is the cold Pants start; the table also gives the restored local
store's size and how long its copy took (not part of any deploy). It prints one table, a line per size, then
`RATIOS: fresh/warm wall = X.XXx; fresh bytes pushed = N; warm bytes pushed = N;
warm wall / cold pants start = X.XXx; layers identical = true|false` on one line (with several sizes, the
worst of them per figure).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rich.console import Console
from rich.filesize import decimal
from rich.table import Table

from pipelines.common.naming import PipelineName

# `tests` is first-party only when ruff runs with tests/ in its sandbox: in a block of its own, it sorts the
# same either way.
# isort: split
from benchmarks import change_aware, deploy_phases, generate_monorepo, restored_caches, runner_services
from repo_testing.docker_engine import EngineError, throwaway_engine
from repo_testing.registry import RegistryUnavailable
from repo_testing.workspace import REPO_ROOT, commit_all, stop_pantsd

REAL_PIPELINE = "rj_smtr__gps_brt"


@dataclass(frozen=True)
class Layer:
    part: str  # OS, base, deps (the pipeline's own unchanged layers), sources (the last layer)
    instruction: str
    size: int  # compressed, as pushed
    same_digest: bool | None  # None: the previous image has no layer at this position
    same_content: bool | None  # same uncompressed content (diff id)


@dataclass
class DeployResult(runner_services.DeployRun):
    layers: list[Layer] = field(default_factory=list)
    previous_layer_count: int = 0

    @property
    def layers_identical(self) -> bool:
        unchanged = [layer for layer in self.layers if layer.part != "sources"]
        return (
            bool(self.layers)
            and len(self.layers) == self.previous_layer_count
            and all(layer.same_digest for layer in unchanged)
        )


@dataclass
class SizeResult:
    size: int
    pipeline: str
    total_pipelines: int = 0
    cold_start: float = 0.0
    local_store_size: int = 0  # bytes of the restored Pants local store
    local_store_copy: float = 0.0  # seconds its copy took (before the fresh runner's bootstrap)
    seed: DeployResult = field(default_factory=lambda: DeployResult("previous"))
    fresh: DeployResult = field(default_factory=lambda: DeployResult("fresh"))
    warm: DeployResult = field(default_factory=lambda: DeployResult("warm"))
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def layer_count(docker: Sequence[str], reference: str) -> int | None:
    result = subprocess.run(
        [*docker, "image", "inspect", reference], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return None
    return len(json.loads(result.stdout)[0]["RootFS"]["Layers"])


def base_layer_count(docker: Sequence[str], tag: str) -> int | None:
    """Layers of the base the deploy built (a *rio-pipelines-base tagged ``tag``) or pulled (``inputs-*``)."""
    listing = subprocess.run(
        [*docker, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    bases = [
        reference for reference in listing if reference.rpartition(":")[0].endswith("rio-pipelines-base")
    ]
    built = [reference for reference in bases if reference.rpartition(":")[2] == tag]
    published = [reference for reference in bases if reference.rpartition(":")[2].startswith("inputs-")]
    for reference in (*built, *published):
        return layer_count(docker, reference)
    return None


def compare_layers(
    new: Sequence[tuple[str, int, str, str]],
    previous: Sequence[tuple[str, int, str, str]],
    os_layers: int,
    base_layers: int | None,
) -> list[Layer]:
    layers = []
    for index, (digest, size, diff_id, instruction) in enumerate(new):
        if index == len(new) - 1:
            part = "sources"
        elif index < os_layers:
            part = "OS"
        elif base_layers is None:
            part = "image"
        elif index < base_layers:
            part = "base"
        else:
            part = "deps"
        old = previous[index] if index < len(previous) else None
        layers.append(
            Layer(
                part,
                instruction,
                size,
                None if old is None else old[0] == digest,
                None if old is None else old[2] == diff_id,
            )
        )
    return layers


@dataclass(frozen=True)
class Target:
    """The changed pipeline's image in the registry, and how many of its layers are the OS's."""

    repository: str  # rio/<image name>
    os_layers: int


def measure_deploy(
    services: runner_services.Services,
    target: Target,
    result: DeployResult,
    repo: Path,
    env: Mapping[str, str],
    docker: Sequence[str],
    deploy_args: Sequence[str],
    previous_tag: str | None,
) -> None:
    runner_services.run_deploy(services, result, repo, env, deploy_args)
    new = runner_services.image_layers(services.registry, target.repository, result.tag)
    if not new:
        raise deploy_phases.DeployFailed(
            f"{result.label}: {target.repository}:{result.tag} is not in the registry"
        )
    previous = (
        runner_services.image_layers(services.registry, target.repository, previous_tag)
        if previous_tag
        else []
    )
    result.previous_layer_count = len(previous)
    result.layers = compare_layers(new, previous, target.os_layers, base_layer_count(docker, result.tag))


# --------------------------------------------------------------------------- one size


def pick_pipeline(repo: Path, size: int, requested: str | None) -> str:
    if requested:
        return requested
    if size <= 3:
        return REAL_PIPELINE
    names = change_aware.generated(repo)
    return names[len(names) // 2]


def change_pipeline(repo: Path, pipeline: str, label: str) -> None:
    """A one-line comment, unique to this run, appended to the pipeline's tasks.py and committed."""
    change_aware.append(
        repo / "pipelines" / pipeline / "tasks.py",
        f"# fresh-runner benchmark: {change_aware.RUN_NONCE} {label}\n",
    )
    commit_all(repo, f"bench: {label} change to {pipeline}")


def progress(size: int, started: float, message: str) -> None:
    print(f"[N={size} +{time.monotonic() - started:5.0f} s] {message}", flush=True)


def measure_size(
    size: int, root: Path, os_image: str, requested: str | None, keep_caches: bool
) -> SizeResult:
    started = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    repo = root / "repo"
    generate_monorepo.generate(repo, size)
    result = SizeResult(size, pick_pipeline(repo, size, requested))
    result.total_pipelines = len(change_aware.pipelines_of(repo))
    image = PipelineName.from_dir(result.pipeline).image_name
    progress(size, started, f"generated {result.total_pipelines} pipelines; changing {result.pipeline}")
    with contextlib.ExitStack() as stack:
        services = runner_services.runner_services(stack, root, repo, os_image)
        target = Target(
            f"{runner_services.REGISTRY_NAMESPACE}/{image}", layer_count(["docker"], os_image) or 1
        )
        progress(
            size,
            started,
            f"registry {services.registry} (relay :{services.relay.port}), Prefect {services.api_url}",
        )
        # The caches the workflows save and restore, at one path for every runner (as ~/.cache on GitHub's):
        # copies of this machine's, then used by the previous runner, then by the fresh one.
        caches = runner_services.restore_caches(stack, root / "caches", keep_caches)
        # Every runner checks the repository out at the same path ($GITHUB_WORKSPACE): Pants's cache keys
        # may hold paths, so the previous runner and the fresh one use the same checkout path and caches.
        checkout = root / "checkout"
        stack.callback(stop_pantsd, checkout)
        # The previous deploy, by a runner that deployed before: a push like the measured ones
        # (`--changed-since`), with this machine's engine, so the caches it leaves hold what CI's would (the
        # plan's dependency inference over every pipeline, the pexes, the tool).
        change_pipeline(repo, result.pipeline, "previous")
        runner_services.new_checkout(repo, checkout)
        measure_deploy(
            services,
            target,
            result.seed,
            checkout,
            {**runner_services.runner_environment(caches, None), **services.settings},
            ["docker"],
            ["--changed-since", "HEAD~1"],
            None,
        )
        stop_pantsd(checkout)
        progress(
            size, started, f"previous deploy (not measured) {result.seed.wall:.1f} s, tag {result.seed.tag}"
        )
        # What the fresh runner downloads: the local store as the previous job saved it (its copy time is the
        # stand-in for the cache restore; not part of any deploy).
        probe = restored_caches.RestoredCaches(root / "store-probe")
        store = restored_caches.restore_local_store(probe, {"PANTS_LOCAL_STORE_DIR": str(caches.local_store)})
        shutil.rmtree(probe.root, ignore_errors=True)
        result.local_store_size, result.local_store_copy = store.size, store.seconds
        progress(
            size,
            started,
            f"caches the previous runner saved, in {caches.root} "
            f"(local store {decimal(store.size)}, copied in {store.seconds:.1f} s)",
        )
        engine = stack.enter_context(throwaway_engine())
        engine.load_image_from(os_image)
        progress(
            size,
            started,
            f"second engine {engine.host} on bridge {engine.bridge} ({engine.subnet}), OS image loaded",
        )

        clone = checkout
        runner_services.new_checkout(repo, clone)
        env = {**runner_services.runner_environment(caches, engine.host), **services.settings}
        docker = ["docker", "--host", engine.host]
        cold = deploy_phases.run_timed(
            ["./pants", "--no-pantsd", "--version"], clone, env, root / "cold-start.log", 900
        )
        if cold.returncode != 0:
            raise deploy_phases.DeployFailed(
                f"./pants --no-pantsd --version failed on the fresh clone: {cold.output[-2000:]}"
            )
        result.cold_start = cold.wall
        if cold.first(r"Creating the Pants|Building the pex tool"):
            result.notes.append("the restored launcher cache was not used: ./pants bootstrapped again")
        progress(size, started, f"cold Pants start (./pants --no-pantsd --version) {cold.wall:.1f} s")

        for deploy in (result.fresh, result.warm):
            previous = result.seed.tag if deploy is result.fresh else result.fresh.tag
            change_pipeline(clone, result.pipeline, deploy.label)
            measure_deploy(
                services, target, deploy, clone, env, docker, ["--changed-since", "HEAD~1"], previous
            )
            progress(
                size, started, f"{deploy.label} deploy {deploy.wall:.1f} s, {deploy.uploaded} bytes uploaded"
            )
    result.seconds = time.monotonic() - started
    return result


# --------------------------------------------------------------------------- report


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _layer_cell(layer: Layer | None) -> str:
    if layer is None:
        return "-"
    if layer.same_digest is None:
        return f"no previous layer, {decimal(layer.size)}"
    if layer.same_digest:
        return f"same, {decimal(layer.size)}"
    return f"NEW, {decimal(layer.size)}" + (" (same content)" if layer.same_content else "")


def table(results: Sequence[SizeResult]) -> Table:
    grid = Table(
        title="Fresh vs warm runner: one-line change to one pipeline, deployed to staging", show_lines=False
    )
    grid.add_column("Measurement")
    deploys: list[tuple[SizeResult, DeployResult]] = []
    for result in results:
        for deploy in (result.fresh, result.warm):
            grid.add_column(f"N={result.size} {deploy.label}", justify="right")
            deploys.append((result, deploy))

    def row(label: str, cells: Sequence[str]) -> None:
        grid.add_row(label, *cells)

    row("changed pipeline (of all pipelines)", [f"{r.pipeline} ({r.total_pipelines})" for r, _ in deploys])
    row("whole deploy (s)", [_seconds(d.wall) for _, d in deploys])
    row(
        "bootstrap before it: ./pants --no-pantsd --version = cold Pants start (s)",
        [_seconds(r.cold_start) if d is r.fresh else "-" for r, d in deploys],
    )
    row(
        "Pants local store restored (size)",
        [
            f"{r.local_store_size} ({decimal(r.local_store_size)})" if d is r.fresh else "-"
            for r, d in deploys
        ],
    )
    row(
        "  its copy, before the bootstrap, not in the deploy (s)",
        [_seconds(r.local_store_copy) if d is r.fresh else "-" for r, d in deploys],
    )
    for key, label in deploy_phases.PHASE_ROWS:
        row(label, [_seconds(d.phases.get(key)) for _, d in deploys])
    row("bytes uploaded to the registry", [f"{d.uploaded} ({decimal(d.uploaded)})" for _, d in deploys])
    row(
        "bytes downloaded from the registry",
        [f"{d.downloaded} ({decimal(d.downloaded)})" for _, d in deploys],
    )
    row("registry growth (bytes)", [f"{d.growth} ({decimal(d.growth)})" for _, d in deploys])
    row(
        "new blobs in the registry",
        [
            "\n".join(f"{digest[:12]} {decimal(size)}" for digest, size in d.new_blobs) or "none"
            for _, d in deploys
        ],
    )
    positions = max((len(d.layers) for _, d in deploys), default=0)
    for index in range(positions):
        sample = next(d.layers[index] for _, d in deploys if index < len(d.layers))
        row(
            f"layer {index + 1} ({sample.part}) {sample.instruction}: vs previous deploy",
            [_layer_cell(d.layers[index] if index < len(d.layers) else None) for _, d in deploys],
        )
    row("unchanged layers (all but sources) identical", [str(d.layers_identical).lower() for _, d in deploys])
    return grid


@dataclass(frozen=True)
class Ratios:
    wall: float
    fresh_bytes: int
    warm_bytes: int
    warm_vs_cold: float
    identical: bool

    def line(self) -> str:
        return (
            f"fresh/warm wall = {self.wall:.2f}x; fresh bytes pushed = {self.fresh_bytes}; "
            f"warm bytes pushed = {self.warm_bytes}; "
            f"warm wall / cold pants start = {self.warm_vs_cold:.2f}x; "
            f"layers identical = {str(self.identical).lower()}"
        )


def ratios(result: SizeResult) -> Ratios:
    return Ratios(
        result.fresh.wall / result.warm.wall,
        result.fresh.uploaded,
        result.warm.uploaded,
        result.warm.wall / result.cold_start,
        result.fresh.layers_identical and result.warm.layers_identical,
    )


def worst(all_ratios: Sequence[Ratios]) -> Ratios:
    return Ratios(
        max(r.wall for r in all_ratios),
        max(r.fresh_bytes for r in all_ratios),
        max(r.warm_bytes for r in all_ratios),
        max(r.warm_vs_cold for r in all_ratios),
        all(r.identical for r in all_ratios),
    )


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="3,200", help="generated pipelines per copy, comma-separated")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-fresh-runner"))
    parser.add_argument(
        "--pipeline", help=f"pipeline to change (default: {REAL_PIPELINE} at N<=3, else a generated one)"
    )
    parser.add_argument("--keep-caches", action="store_true", help="keep the copies of the restored caches")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    workdir: Path = args.workdir.resolve()
    if workdir == REPO_ROOT or REPO_ROOT in workdir.parents:
        parser.error("--workdir must be outside the working tree")
    sizes = [int(size) for size in args.sizes.split(",") if size]
    runner_services.stop_on_signals()
    os_image = runner_services.os_image_tag()
    started = time.monotonic()
    results: list[SizeResult] = []
    try:
        for size in sizes:
            result = measure_size(size, workdir / f"n{size}", os_image, args.pipeline, args.keep_caches)
            results.append(result)
            (workdir / f"n{size}" / "result.json").write_text(
                json.dumps(asdict(result), indent=2, default=str)
            )
    except (
        deploy_phases.DeployFailed,
        EngineError,
        RegistryUnavailable,
        subprocess.CalledProcessError,
    ) as error:
        print(f"fresh_runner: {error}", file=sys.stderr)
        return 1
    console = Console(width=240)
    console.print(table(results))
    for result in results:
        for deploy in (result.seed, result.fresh, result.warm):
            for note in deploy.notes:
                print(f"[N={result.size}] {deploy.label}: note: {note}")
        for note in result.notes:
            print(f"[N={result.size}] note: {note}")
        print(
            f"[N={result.size}] previous deploy (machine engine, the restored caches; not measured): "
            f"{result.seed.wall:.1f} s, "
            f"{result.seed.uploaded} bytes uploaded; whole size took {result.seconds:.0f} s"
        )
    print(f"total {time.monotonic() - started:.0f} s")
    per_size = [ratios(result) for result in results]
    for result, figures in zip(results, per_size, strict=True):
        print(f"N={result.size}: {figures.line()}")
    print(f"RATIOS: {worst(per_size).line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
