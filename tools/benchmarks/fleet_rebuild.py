"""Benchmark: the worst day, every pipeline rebuilt and redeployed on a fresh CI runner (docs/benchmarks.md).

    ./pants run tools/benchmarks/fleet_rebuild.py -- --sizes 64,200 --workdir /tmp/bench-fleet

Not a test. For each size N, in a throwaway copy with N generated pipelines (generate_monorepo.py), with the
services and caches of fresh_runner.py (runner_services.py):
  1. a Docker engine of its own for the previous runner (the OS image built in it from Debian's packages);
  2. the previous deploy (not measured): every pipeline deployed to staging (`--all`) by that runner, pushed
     to the registry; it starts with the bootstrapped Pants only (empty named caches and local store) and
     leaves the caches the next runner restores, the local store bounded as pants-setup bounds it;
  3. each case, committed on top and deployed by a fresh runner as the staging workflow does it: a new
     checkout at the same path, the caches as the previous runner left them, a new empty engine with only the
     OS image, the real deploy tool with `--environment staging --changed-since HEAD~1`:
       base:    a line added to the root Dockerfile (every image is rebuilt on a new base);
       prefect: Prefect's pin moved to a neighbouring Prefect 3 release (constraints.txt and the pins files;
                the lockfile is derived from the pins at run time, as in CI).
     The cases run in order, each on top of the previous one's deploy.
For each deploy: wall per phase, bytes uploaded, registry growth, new blobs by kind (fleet_blobs.py), how many
pipeline layers (deps, sources) kept their digest, and the peak disk of the runner (its engine's data root,
the restored caches, the checkout), sampled with `du` during the deploy. It prints one table, a line per
size and case, then `RATIOS: fleet N=<first size> wall = N s; per pipeline = X.XX s; bytes pushed = N;
layers reused = K/M; peak disk = N` (the worst case of that size per figure; per pipeline = wall / pipelines
deployed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.filesize import decimal
from rich.table import Table

from pipeline_platform.published import BASE_REPOSITORY
from pipeline_platform.repo_root import REPO_ROOT_ENV
from pipelines.common.naming import PipelineName

# `tests` is first-party only when ruff runs with tests/ in its sandbox: in a block of its own, it sorts the
# same either way.
# isort: split
from benchmarks import (
    change_aware,
    deploy_phases,
    fleet_blobs,
    generate_monorepo,
    restored_caches,
    runner_services,
)
from repo_testing.docker_engine import Engine, EngineError, throwaway_engine
from repo_testing.registry import RegistryUnavailable
from repo_testing.workspace import REPO_ROOT, commit_all, stop_pantsd

CASES = ("base", "prefect")
DISK_SAMPLE_S = 5.0
DETAIL_STEP_BYTES = 200_000_000
# pants-setup's step before Pants runs, with the action's default cap.
BOUND_LOCAL_STORE = "build-support/ci/bound-pants-local-store.sh"
LOCAL_STORE_MAX_BYTES = "1000000000"
CATALOG_PAGE = 1000  # the registry rejects a larger page (400)
REQUIREMENTS = "3rdparty/python/requirements.txt"


@dataclass
class CaseResult(runner_services.DeployRun):
    description: str = ""
    pipelines: int = 0  # deployed
    images_built: int = 0
    blob_kinds: dict[str, fleet_blobs.KindTotal] = field(default_factory=dict)
    layers_kept: int = 0
    layers_total: int = 0
    peak_disk: int = 0
    peak_parts: dict[str, int] = field(default_factory=dict)
    peak_engine: str = ""  # `docker system df -v` of the runner's engine near the peak
    load: str = ""  # `uptime` before and after


@dataclass
class SizeResult:
    size: int
    total_pipelines: int = 0
    seed: runner_services.DeployRun = field(default_factory=lambda: runner_services.DeployRun("previous"))
    cases: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0


# --------------------------------------------------------------------------- the changes


def neighbour_version(pinned: str, available: Sequence[str]) -> str:
    """The release before ``pinned`` in ``available`` (newest first, as `pip index versions` lists them)
    with the same major version, else the one after."""
    major = pinned.split(".")[0]
    same_major = [version for version in available if version.split(".")[0] == major]
    if pinned in same_major:
        index = same_major.index(pinned)
        if index + 1 < len(same_major):
            return same_major[index + 1]
        if index > 0:
            return same_major[index - 1]
    raise SystemExit(
        f"no Prefect release next to {pinned} in the package index ({', '.join(available[:5])}...)"
    )


def pinned_version(repo: Path, name: str) -> str:
    found = re.search(
        rf"^{re.escape(name)}==(\S+)$", (repo / "3rdparty/python/constraints.txt").read_text(), re.M
    )
    if not found:
        raise SystemExit(f"3rdparty/python/constraints.txt pins no {name}")
    return found[1]


def available_versions(name: str) -> list[str]:
    """Releases of ``name`` in the package index, newest first (one `pip index versions` call)."""
    listed = subprocess.run(
        ["python3", "-m", "pip", "index", "versions", name], capture_output=True, text=True, check=False
    )
    found = re.search(r"^Available versions: (.*)$", listed.stdout, re.M)
    if not found:
        raise SystemExit(f"pip index versions {name} failed: {listed.stderr.strip()[-500:]}")
    return [version.strip() for version in found[1].split(",")]


def pin_requirement(requirements: str, name: str, version: str) -> str:
    """``requirements`` (requirements.txt's text) with ``name``'s line, any range, as ``name==version``."""
    pattern = re.compile(rf"^{re.escape(name)}(\s*[<>=!~;\[].*)?$", re.M)
    if not pattern.search(requirements):
        raise SystemExit(f"{REQUIREMENTS} names no {name}")
    return pattern.sub(f"{name}=={version}", requirements)


def refresh_pins(repo: Path) -> None:
    """tools/refresh_pins.py, as a developer upgrading runs it: the whole closure re-resolved, so that the
    other pins agree with the new one."""
    refreshed = subprocess.run(
        ["python3", "tools/refresh_pins.py"],
        cwd=repo,
        # ./pants exports this repository's root to what it runs: the script would refresh ours.
        env={**os.environ, REPO_ROOT_ENV: str(repo)},
        capture_output=True,
        text=True,
        check=False,
    )
    if refreshed.returncode != 0:
        raise SystemExit(f"tools/refresh_pins.py failed: {refreshed.stderr.strip()[-2000:]}")


def change_base(repo: Path) -> str:
    change_aware.append(
        repo / "Dockerfile", f'\nLABEL org.prefeitura.rio.bench-fleet="{change_aware.RUN_NONCE}"\n'
    )
    return "a LABEL line added to the root Dockerfile"


def change_prefect(version: str) -> Callable[[Path], str]:
    def change(repo: Path) -> str:
        pinned = pinned_version(repo, "prefect")
        requirements = repo / REQUIREMENTS
        requirements.write_text(pin_requirement(requirements.read_text(), "prefect", version))
        refresh_pins(repo)
        moved = pinned_version(repo, "prefect")
        if moved != version:
            raise SystemExit(f"the refreshed pins hold prefect {moved}, not {version}")
        return f"prefect {pinned} -> {version} in requirements.txt, pins refreshed"

    return change


# --------------------------------------------------------------------------- disk


class DiskSampler:
    """Samples the bytes under each path (``du -sxB1``: other file systems, such as overlay mounts, are not
    crossed) every DISK_SAMPLE_S seconds on a thread; keeps the largest total and its parts, and ``detail()``
    (what the engine holds) each time the peak grows by DETAIL_STEP_BYTES since it was last taken."""

    def __init__(self, parts: Mapping[str, Path], detail: Callable[[], str] | None = None) -> None:
        self.parts = dict(parts)
        self.peak = 0
        self.peak_parts: dict[str, int] = {}
        self.detail = detail
        self.peak_detail = ""
        self._detail_at = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        sizes = {name: _du(path) for name, path in self.parts.items()}
        total = sum(sizes.values())
        if total > self.peak:
            self.peak, self.peak_parts = total, sizes
            if self.detail is not None and total >= self._detail_at + DETAIL_STEP_BYTES:
                self.peak_detail, self._detail_at = self.detail(), total

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(DISK_SAMPLE_S)

    def __enter__(self) -> DiskSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def _du(path: Path) -> int:
    if not path.exists():
        return 0
    result = subprocess.run(["du", "-sxB1", str(path)], capture_output=True, text=True, check=False)
    return int(result.stdout.split()[0]) if result.stdout.strip() else 0


def engine_usage(docker_host: str) -> str:
    """What the engine's disk holds, image by image (`docker system df -v`)."""
    result = subprocess.run(
        ["docker", "--host", docker_host, "system", "df", "-v"], capture_output=True, text=True, check=False
    )
    return result.stdout if result.returncode == 0 else f"docker system df failed: {result.stderr[-300:]}"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# --------------------------------------------------------------------------- the registry after a deploy


def registry_repositories(registry: str) -> list[str]:
    """Every repository in the registry's catalog, page by page (the registry caps a page at 1000)."""
    repositories: list[str] = []
    url: str | None = f"http://{registry}/v2/_catalog?n={CATALOG_PAGE}"
    while url:
        response = httpx.get(url, timeout=30)
        response.raise_for_status()
        repositories += response.json().get("repositories") or []
        following = response.links.get("next", {}).get("url")
        url = str(httpx.URL(url).join(following)) if following else None
    return repositories


def registry_images(registry: str) -> list[fleet_blobs.ImageBlobs]:
    """Every image the registry holds (each repository's tags), as manifest, config and layers."""
    images = []
    for repository in registry_repositories(registry):
        listing = runner_services.registry_json(f"http://{registry}/v2/{repository}/tags/list") or {}
        for tag in listing.get("tags") or []:
            response = httpx.get(
                f"http://{registry}/v2/{repository}/manifests/{tag}",
                headers={"Accept": runner_services.MANIFEST_V2},
                timeout=30,
            )
            response.raise_for_status()
            manifest = response.json()
            kind = (
                fleet_blobs.BASE
                if repository.endswith(BASE_REPOSITORY)
                else fleet_blobs.DEPS if repository.endswith("-deps") else fleet_blobs.PIPELINE
            )
            images.append(
                fleet_blobs.ImageBlobs(
                    repository,
                    tag,
                    kind,
                    fleet_blobs.bare(response.headers["Docker-Content-Digest"]),
                    fleet_blobs.bare(manifest["config"]["digest"]),
                    tuple(fleet_blobs.bare(layer["digest"]) for layer in manifest.get("layers", [])),
                )
            )
    return images


def measure_registry(
    services: runner_services.Services, result: CaseResult, pipelines: Sequence[str], previous_tag: str
) -> None:
    images = registry_images(services.registry)
    result.blob_kinds = fleet_blobs.classify_blobs(dict(result.new_blobs), images)
    base_layers = {layer for image in images if image.kind == fleet_blobs.BASE for layer in image.layers}
    by_reference = {(image.repository, image.tag): image.layers for image in images}
    kept = total = 0
    for pipeline in pipelines:
        repository = f"{runner_services.REGISTRY_NAMESPACE}/{PipelineName.from_dir(pipeline).image_name}"
        new = by_reference.get((repository, result.tag))
        if new is None:
            result.notes.append(f"{repository}:{result.tag} is not in the registry")
            continue
        k, m = fleet_blobs.layers_reused(new, by_reference.get((repository, previous_tag), ()), base_layers)
        kept, total = kept + k, total + m
    result.layers_kept, result.layers_total = kept, total


# --------------------------------------------------------------------------- one size


def bound_local_store(caches: restored_caches.RestoredCaches, checkout: Path) -> str:
    """What pants-setup does to the restored local store before Pants runs (its default cap): its message."""
    bounded = subprocess.run(
        ["bash", str(checkout / BOUND_LOCAL_STORE), str(caches.local_store), LOCAL_STORE_MAX_BYTES],
        capture_output=True,
        text=True,
        check=True,
    )
    return bounded.stdout.strip()


def progress(size: int, started: float, message: str) -> None:
    print(f"[N={size} +{time.monotonic() - started:5.0f} s] {message}", flush=True)


def offline_os_image(engine: Engine) -> str:
    """The OS image, made in ``engine`` from Debian's packages (build-offline-os-image.sh)."""
    made = subprocess.run(
        ["bash", str(REPO_ROOT / "build-support/docker/build-offline-os-image.sh")],
        capture_output=True,
        text=True,
        check=False,
        env={**runner_services.machine_environment(), "DOCKER_HOST": engine.host},
    )
    if made.returncode != 0 or not made.stdout.strip():
        raise EngineError(f"could not build the OS image: {made.stderr.strip()[-2000:]}")
    return made.stdout.strip().splitlines()[-1]


def measure_size(
    size: int,
    root: Path,
    cases: Sequence[tuple[str, Callable[[Path], str]]],
    keep_caches: bool,
) -> SizeResult:
    started = time.monotonic()
    root.mkdir(parents=True, exist_ok=True)
    repo = root / "repo"
    generate_monorepo.generate(repo, size)
    pipelines = change_aware.pipelines_of(repo)
    result = SizeResult(size, len(pipelines))
    progress(size, started, f"generated {result.total_pipelines} pipelines")
    with contextlib.ExitStack() as stack:
        previous_runner = stack.enter_context(throwaway_engine())
        os_image = offline_os_image(previous_runner)
        progress(size, started, f"previous runner's engine {previous_runner.host}, OS image {os_image}")
        services = runner_services.runner_services(stack, root, repo, os_image)
        # A series of runners from empty Pants caches: the previous deploy fills them as a CI series would.
        caches = runner_services.restore_caches(stack, root / "caches", keep_caches, pants_caches=False)
        checkout = root / "checkout"
        stack.callback(stop_pantsd, checkout)
        progress(
            size, started, f"registry {services.registry} (relay :{services.relay.port}), caches restored"
        )
        runner_services.new_checkout(repo, checkout)
        runner_services.run_deploy(
            services,
            result.seed,
            checkout,
            {**runner_services.runner_environment(caches, previous_runner.host), **services.settings},
            ["--all"],
        )
        progress(size, started, f"previous deploy (--all, not measured) {result.seed.wall:.1f} s")
        previous_tag = result.seed.tag
        for label, change in cases:
            case = CaseResult(label, description=change(repo))
            commit_all(repo, f"bench: fleet case {label}")
            runner_services.new_checkout(repo, checkout)
            case.notes.append(bound_local_store(caches, checkout))
            with throwaway_engine() as engine:
                engine.load_image_from(os_image, previous_runner.host)
                env = {**runner_services.runner_environment(caches, engine.host), **services.settings}
                sampler = DiskSampler(
                    {
                        "runner's Docker data root": engine.root / "data",
                        "Pants caches (restored)": caches.root,
                        "checkout (.pants.d, dist)": checkout,
                    },
                    detail=lambda: engine_usage(engine.host),
                )
                case.load = f"before: {uptime()}"
                with sampler:
                    run = runner_services.run_deploy(
                        services, case, checkout, env, ["--changed-since", "HEAD~1"]
                    )
                case.load += f"; after: {uptime()}"
            case.peak_disk, case.peak_parts = sampler.peak, sampler.peak_parts
            case.peak_engine = sampler.peak_detail
            (root / f"engine-at-peak-{label}.txt").write_text(sampler.peak_detail)
            built = run.first(r"Building (\d+) image\(s\) with Pants")
            case.images_built = int(built[1][1]) if built else 0
            registered = run.first(r"Registered (\d+) deployment\(s\)")
            case.pipelines = int(registered[1][1]) if registered else 0
            try:
                measure_registry(services, case, pipelines, previous_tag)
            except httpx.HTTPError as error:
                case.notes.append(f"the registry could not be read after the deploy: {error}")
            previous_tag = case.tag
            result.cases.append(case)
            # Kept as it comes: a later case that fails leaves the earlier ones' figures.
            (root / "result.json").write_text(json.dumps(asdict(result), indent=2, default=str))
            summary = {key: value for key, value in asdict(case).items() if key != "peak_engine"}
            progress(size, started, f"{label}: {json.dumps(summary, default=str)}")
            progress(
                size,
                started,
                f"{label}: {case.wall:.1f} s, {case.uploaded} bytes uploaded, "
                f"layers kept {case.layers_kept}/{case.layers_total}, peak disk {decimal(case.peak_disk)}",
            )
    result.seconds = time.monotonic() - started
    return result


# --------------------------------------------------------------------------- report


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(results: Sequence[SizeResult]) -> Table:
    grid = Table(title="Fleet rebuild on a fresh runner, deployed to staging")
    grid.add_column("Measurement")
    cases = [(result, case) for result in results for case in result.cases]
    for result, case in cases:
        grid.add_column(f"N={result.size} {case.label}", justify="right")

    def row(label: str, cells: Sequence[str]) -> None:
        grid.add_row(label, *cells)

    row("change", [case.description for _, case in cases])
    row("pipelines in the repository", [str(result.total_pipelines) for result, _ in cases])
    row("images built / deployments registered", [f"{c.images_built} / {c.pipelines}" for _, c in cases])
    row("whole deploy (s)", [_seconds(case.wall) for _, case in cases])
    row("per pipeline (s)", [f"{per_pipeline(case):.2f}" for _, case in cases])
    for key, label in deploy_phases.PHASE_ROWS:
        row(label, [_seconds(case.phases.get(key)) for _, case in cases])
    row("bytes uploaded to the registry", [f"{c.uploaded} ({decimal(c.uploaded)})" for _, c in cases])
    row("bytes downloaded from the registry", [f"{c.downloaded} ({decimal(c.downloaded)})" for _, c in cases])
    row("registry growth (bytes)", [f"{c.growth} ({decimal(c.growth)})" for _, c in cases])
    for kind in fleet_blobs.KINDS:
        row(
            f"new blobs: {kind} (count, bytes)",
            [
                (
                    f"{c.blob_kinds[kind].blobs}, {decimal(c.blob_kinds[kind].bytes)}"
                    if kind in c.blob_kinds
                    else "-"
                )
                for _, c in cases
            ],
        )
    row("pipeline layers (deps, sources) that kept their digest", [reused(c) for _, c in cases])
    row("peak disk of the runner (bytes)", [f"{c.peak_disk} ({decimal(c.peak_disk)})" for _, c in cases])
    names = sorted({name for _, c in cases for name in c.peak_parts})
    for name in names:
        row(f"  {name}, at the peak", [decimal(c.peak_parts.get(name, 0)) for _, c in cases])
    return grid


def per_pipeline(case: CaseResult) -> float:
    return case.wall / case.pipelines if case.pipelines else 0.0


def reused(case: CaseResult) -> str:
    return f"{case.layers_kept}/{case.layers_total}"


def ratios_line(size: int, cases: Sequence[CaseResult]) -> str:
    """The figures of the worst case per figure (the lowest share of layers kept)."""
    slowest = max(cases, key=lambda case: case.wall)
    least_kept = min(cases, key=lambda case: case.layers_kept / case.layers_total if case.layers_total else 0)
    return (
        f"fleet N={size} wall = {slowest.wall:.0f} s; per pipeline = {per_pipeline(slowest):.2f} s; "
        f"bytes pushed = {max(case.uploaded for case in cases)}; layers reused = {reused(least_kept)}; "
        f"peak disk = {max(case.peak_disk for case in cases)}"
    )


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="64", help="generated pipelines per copy, comma-separated")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, in order: {CASES}")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-fleet"))
    parser.add_argument(
        "--prefect-version", help="the version the prefect case pins (default: the release before the pinned)"
    )
    parser.add_argument("--keep-caches", action="store_true", help="keep the copies of the restored caches")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    workdir: Path = args.workdir.resolve()
    if workdir == REPO_ROOT or REPO_ROOT in workdir.parents:
        parser.error("--workdir must be outside the working tree")
    sizes = [int(size) for size in args.sizes.split(",") if size]
    labels = [label for label in args.cases.split(",") if label]
    if unknown := set(labels) - set(CASES):
        parser.error(f"unknown cases {sorted(unknown)}; known: {CASES}")
    changes: dict[str, Callable[[Path], str]] = {"base": change_base}
    if "prefect" in labels:
        version = args.prefect_version or neighbour_version(
            pinned_version(REPO_ROOT, "prefect"), available_versions("prefect")
        )
        changes["prefect"] = change_prefect(version)
    runner_services.stop_on_signals()
    started = time.monotonic()
    results: list[SizeResult] = []
    print(f"load at the start: {uptime()}", flush=True)
    try:
        for size in sizes:
            result = measure_size(
                size, workdir / f"n{size}", [(label, changes[label]) for label in labels], args.keep_caches
            )
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
        print(f"fleet_rebuild: {error}", file=sys.stderr)
        return 1
    Console(width=240).print(table(results))
    for result in results:
        for deploy in (result.seed, *result.cases):
            for note in deploy.notes:
                print(f"[N={result.size}] {deploy.label}: note: {note}")
        for case in result.cases:
            print(f"[N={result.size}] {case.label}: load {case.load}")
        print(
            f"[N={result.size}] previous deploy (--all, its own engine, the restored caches; not measured): "
            f"{result.seed.wall:.1f} s, {result.seed.uploaded} bytes uploaded; whole size took "
            f"{result.seconds:.0f} s"
        )
    print(f"total {time.monotonic() - started:.0f} s")
    for result in results:
        for case in result.cases:
            print(f"{case.label}: {ratios_line(result.size, [case])}")
    print(f"RATIOS: {ratios_line(results[0].size, results[0].cases)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
