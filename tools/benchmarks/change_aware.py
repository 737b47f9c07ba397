"""Benchmark: the change-aware path's cost grows with the change, not the repository (docs/benchmarks.md).

    export OS_IMAGE=...   # an OS image Docker can build FROM (docs/imagem-base.md)
    ./pants run tools/benchmarks/change_aware.py -- --sizes 3,50,200

Not a test: for each size it generates a throwaway copy (generate_monorepo.py) under --workdir, commits one
branch per scenario, and measures on that copy, side by side:
  1. the affected-set query (`--changed-since=BASE --changed-dependents=transitive list`), cold (no daemon)
     and warm (daemon already up when the change lands), for one pipeline, a shared module, the base image;
  2. the full change-aware path (deploy_prefect_flows.py: affected set, images, registration on a local
     Prefect server) for a one-pipeline change, and `--all` (registration for real, images extrapolated
     from a measured sample);
  3. correctness of Pants's affected set against "parent dirs of the last commit's diff" (the original
     repository's method) and per-pipeline path filters, on the same commits;
  4. registration rate: one process (the deploy tool) vs one `prefect deploy` call per deployment;
  5. bytes of new image layers after a code-only change vs the full image.
It prints one table and ends with one line of ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks import generate_monorepo
from repo_testing.workspace import REPO_ROOT, commit_all, git, stop_pantsd

# `list` needs no lockfile: a pin change must not trigger a lockfile derivation in the query.
NO_LOCKFILE = {"PANTS_LAUNCHER_SKIP_LOCKFILE": "1"}
QUERY = ("--changed-dependents=transitive", "list")
QUERY_SCENARIOS = ("one_pipeline", "shared_module", "base_image")
# In every code change the benchmark makes: Docker's layer cache outlives a run, and a change an earlier run
# already built would be a cache hit instead of a build.
RUN_NONCE = uuid.uuid4().hex
PIPELINE_TARGET = re.compile(r"^pipelines/(rj_[a-z0-9_]+):(image|deployments)$")


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    commits: tuple[Callable[[Path], None], ...]
    expected: Callable[[Path], set[str]]  # independent check of the ground truth (grep, not Pants)


@dataclass
class SizeResult:
    size: int
    total_pipelines: int = 0
    generate_s: float = 0.0
    cold: dict[str, float] = field(default_factory=dict)
    warm: dict[str, float] = field(default_factory=dict)
    warm_repeat: dict[str, float] = field(default_factory=dict)
    # scenario -> method -> (missed, extra); plus Pants's own set size
    correctness: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    truth_sizes: dict[str, int] = field(default_factory=dict)
    independent_ok: dict[str, bool] = field(default_factory=dict)
    deploy: dict[str, float | int | str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- scenarios


def pipelines_of(repo: Path) -> list[str]:
    return sorted(p.name for p in (repo / "pipelines").iterdir() if p.name.startswith("rj_") and p.is_dir())


def generated(repo: Path) -> list[str]:
    return [name for name in pipelines_of(repo) if "__bench_" in name]


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def touch_code(index: int) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        path = repo / "pipelines" / generated(repo)[index] / "tasks.py"
        append(path, f'\nBENCH_CHANGE_{index} = "{RUN_NONCE}"\n')

    return change


def importers(repo: Path, pattern: str) -> set[str]:
    """Pipelines with a .py file matching `pattern` (a grep, independent of Pants)."""
    found = set()
    regex = re.compile(pattern, re.M)
    for name in pipelines_of(repo):
        for source in (repo / "pipelines" / name).glob("*.py"):
            if not source.name.endswith("_test.py") and regex.search(source.read_text()):
                found.add(name)
    return found


def importers_of_module(repo: Path, module: str) -> set[str]:
    """Pipelines importing ``module`` directly or through other pipelines/common modules (a grep too)."""
    modules = {module}
    common = repo / "pipelines/common"
    sources = [path for path in common.glob("*.py") if not path.name.endswith("_test.py")]
    while True:
        pattern = re.compile(_import_pattern(modules), re.M)
        found = {f"pipelines.common.{path.stem}" for path in sources if pattern.search(path.read_text())}
        if found <= modules:
            return importers(repo, _import_pattern(modules))
        modules |= found


def _import_pattern(modules: set[str]) -> str:
    forms = (rf"^from {re.escape(name)} import|^import {re.escape(name)}\b" for name in sorted(modules))
    return "|".join(forms)


def bump_tenacity(repo: Path) -> None:
    pattern = re.compile(r"^(#   )?tenacity==(\S+)$", re.M)
    for path in [repo / "3rdparty/python/constraints.txt", repo / "3rdparty/python/pins/tenacity.txt"]:
        path.write_text(pattern.sub(lambda m: f"{m[0]}.post1", path.read_text()))


def scenarios() -> list[Scenario]:
    def nth(index: int) -> Callable[[Path], set[str]]:
        return lambda repo: {generated(repo)[index]}

    return [
        Scenario("one_pipeline", "one pipeline's tasks.py", (touch_code(0),), nth(0)),
        Scenario(
            "shared_module",
            "pipelines/common/db.py",
            (lambda repo: append(repo / "pipelines/common/db.py", "\nBENCH_CHANGE = 1\n"),),
            lambda repo: importers_of_module(repo, "pipelines.common.db"),
        ),
        Scenario(
            "pin",
            "pin of tenacity (used by 1 in 5)",
            (bump_tenacity,),
            lambda repo: importers(repo, r"^import tenacity|^from tenacity"),
        ),
        Scenario(
            "base_image",
            "root Dockerfile",
            (lambda repo: append(repo / "Dockerfile", "\nLABEL org.prefeitura.rio.bench=1\n"),),
            lambda repo: set(pipelines_of(repo)),
        ),
        Scenario(
            "prefect_yaml",
            "one prefect.yaml only",
            (
                lambda repo: append(
                    repo / "pipelines" / generated(repo)[1] / "prefect.yaml", "# bench: schedule reviewed\n"
                ),
            ),
            nth(1),
        ),
        Scenario(
            "readme",
            "one pipeline's README.md only",
            (lambda repo: append(repo / "pipelines" / generated(repo)[2] / "README.md", "\nBench.\n"),),
            lambda repo: set(),
        ),
        Scenario(
            "multi_commit",
            "two commits (base = HEAD~2)",
            (touch_code(3), touch_code(4)),
            lambda repo: {generated(repo)[3], generated(repo)[4]} if len(generated(repo)) > 4 else set(),
        ),
    ]


def make_branches(repo: Path, base: str) -> dict[str, Scenario]:
    made = {}
    for scenario in scenarios():
        if scenario.name == "multi_commit" and len(generated(repo)) < 5:
            # Needs 5 generated pipelines; at N=3 it touches the first and second instead.
            scenario = Scenario(
                scenario.name,
                scenario.description,
                (touch_code(0), touch_code(1)),
                lambda repo: {generated(repo)[0], generated(repo)[1]},
            )
        git(repo, "checkout", "-q", "-B", f"bench/{scenario.name}", base)
        for number, change in enumerate(scenario.commits):
            change(repo)
            commit_all(repo, f"bench: {scenario.name} ({number + 1}/{len(scenario.commits)})")
        made[scenario.name] = scenario
    git(repo, "checkout", "-q", "master")
    return made


# --------------------------------------------------------------------------- measurements


def run(
    repo: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 3600
) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    result = subprocess.run(
        list(args),
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    return time.monotonic() - started, result


def pants(
    repo: Path, *args: str, daemon: bool = False, env: Mapping[str, str] | None = None
) -> tuple[float, str]:
    flags = ("--no-dynamic-ui", "--no-colors") + (() if daemon else ("--no-pantsd",))
    seconds, result = run(repo, "./pants", *flags, *args, env={**NO_LOCKFILE, **(env or {})})
    if result.returncode != 0:
        raise RuntimeError(f"./pants {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return seconds, result.stdout


def affected_by_pants(output: str) -> set[str]:
    return {m[1] for line in output.split() if (m := PIPELINE_TARGET.match(line))}


def changed_paths(repo: Path, base: str, head: str) -> list[str]:
    return [line for line in git(repo, "diff", "--name-only", base, head).splitlines() if line]


def original_method(repo: Path, known: set[str]) -> set[str]:
    """The original repository: `git diff HEAD^ HEAD -- pipelines/`, parent directory of each file."""
    found = set()
    for path in git(repo, "diff", "--name-only", "HEAD^", "HEAD", "--", "pipelines/").splitlines():
        parts = Path(path).parent.parts
        if len(parts) >= 2 and parts[1] in known:
            found.add(parts[1])
    return found


def path_filters(repo: Path, base: str, known: set[str]) -> set[str]:
    """One path filter per pipeline (`pipelines/<name>/**`) over the whole push (base..HEAD)."""
    return {
        name
        for name in known
        if any(p.startswith(f"pipelines/{name}/") for p in changed_paths(repo, base, "HEAD"))
    }


def measure_queries(repo: Path, base: str, branches: dict[str, Scenario], result: SizeResult) -> None:
    known = set(pipelines_of(repo))
    result.total_pipelines = len(known)
    # Cold (no daemon) for every scenario; the same output is the ground truth for correctness.
    for name, scenario in branches.items():
        git(repo, "checkout", "-q", f"bench/{name}")
        seconds, output = pants(repo, f"--changed-since={base}", *QUERY)
        result.cold[name] = seconds
        truth = affected_by_pants(output)
        result.truth_sizes[name] = len(truth)
        result.independent_ok[name] = truth == scenario.expected(repo)
        result.correctness[name] = {
            method: (len(truth - found), len(found - truth))
            for method, found in (
                ("pants", truth),
                ("last_commit_dirs", original_method(repo, known)),
                ("path_filters", path_filters(repo, base, known)),
            )
        }
    # Warm: the daemon is up and has answered an affected-set query before (as on a CI runner that kept it)
    # when the change lands. The warm-up query compares with the commit before the generated pipelines, so
    # the daemon infers the dependencies of the whole graph once.
    git(repo, "checkout", "-q", "master")
    warm_up = (f"--changed-since={base}~1", *QUERY)
    try:
        pants(repo, *warm_up, daemon=True)
        for name in QUERY_SCENARIOS:
            git(repo, "checkout", "-q", f"bench/{name}")
            result.warm[name], _ = pants(repo, f"--changed-since={base}", *QUERY, daemon=True)
            result.warm_repeat[name], _ = pants(repo, f"--changed-since={base}", *QUERY, daemon=True)
            git(repo, "checkout", "-q", "master")
            pants(repo, *warm_up, daemon=True)
    finally:
        stop_pantsd(repo)
        git(repo, "checkout", "-q", "master")


# What CI runs: the launcher starts one pantsd for the whole deploy (the tool's nested runs included).
DEPLOY = (
    "env",
    "PANTS_DYNAMIC_UI=false",
    "PANTS_COLORS=false",
    "tools/deploy_prefect_flows.sh",
)


def deploy(repo: Path, env: Mapping[str, str], *args: str) -> tuple[float, str]:
    seconds, result = run(repo, *DEPLOY, "--environment", "staging", *args, env=env)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(f"deploy {' '.join(args)} failed (exit {result.returncode}):\n{output[-4000:]}")
    return seconds, output


def number_after(pattern: str, text: str, default: float = 0.0) -> float:
    match = re.search(pattern, text)
    return float(match[1]) if match else default


def deploy_env(repo: Path, port: int) -> dict[str, str]:
    env = {
        "PIPELINES_LOCAL_PREFECT_HOME": str(repo.parent / "prefect-home"),
        "PIPELINES_LOCAL_PREFECT_PORT": str(port),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    return {key: value for key, value in {**os.environ, **env}.items() if key != "PREFECT_API_URL"}


def stop_server(output: str) -> None:
    match = re.search(r"kill -TERM -(\d+)", output)
    if match:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(match[1]), signal.SIGTERM)


def layer_bytes(old: str, new: str) -> tuple[int, int, int]:
    """(bytes of layers of `new` not in `old`, number of such layers, full size of `new`)."""

    def inspect(image: str) -> tuple[list[str], int]:
        out = subprocess.run(
            ["docker", "image", "inspect", image], capture_output=True, text=True, check=True
        ).stdout
        data = json.loads(out)[0]
        return list(data["RootFS"]["Layers"]), int(data["Size"])

    old_layers, _ = inspect(old)
    new_layers, full = inspect(new)
    history = subprocess.run(
        ["docker", "history", "--no-trunc", "--human=false", "--format", "{{.Size}}\t{{.CreatedBy}}", new],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    # History is newest first; entries that create a filesystem layer (ADD/COPY/RUN, or the imported OS
    # image) map in order onto RootFS.Layers (oldest first).
    creating = [
        int(line.split("\t", 1)[0])
        for line in reversed(history)
        if re.search(r"\b(COPY|ADD|RUN|Imported|import)\b|^\S+\t\|\d", line)
        or not re.search(
            r"\b(ENV|CMD|ARG|USER|LABEL|WORKDIR|EXPOSE|ENTRYPOINT|SHELL|HEALTHCHECK|VOLUME|STOPSIGNAL)\b",
            line,
        )
    ]
    if len(creating) != len(new_layers):
        raise RuntimeError(f"history/layers mismatch for {new}: {len(creating)} vs {len(new_layers)}")
    fresh = [size for layer, size in zip(new_layers, creating, strict=True) if layer not in old_layers]
    return sum(fresh), len(fresh), full


def measure_deploy(
    repo: Path, base: str, result: SizeResult, *, port: int, with_all: bool, sample: int, repeats: int
) -> None:
    env = deploy_env(repo, port)
    first = generated(repo)[0]
    git(repo, "checkout", "-q", "master")
    outputs: list[str] = []
    try:
        # Warm-up (not timed): starts the local server, builds //:base and the first image, registers it.
        _, output = deploy(repo, env, "--pipeline", first)
        outputs.append(output)
        old_tag = re.search(r"tag (\S+),", output)
        git(repo, "checkout", "-q", "bench/one_pipeline")
        seconds, output = deploy(repo, env, "--changed-since", base)
        outputs.append(output)
        new_tag = re.search(r"tag (\S+),", output)
        runs = [(seconds, output)]
        # The same kind of change again (a second code commit on that pipeline): the best of the runs is
        # reported, so one run slowed by other work on the machine does not decide the ratio.
        for attempt in range(2, repeats + 1):
            git(repo, "checkout", "-q", "-B", f"bench/one_pipeline_{attempt}")
            append(repo / "pipelines" / first / "tasks.py", f'\nBENCH_AGAIN_{attempt} = "{RUN_NONCE}"\n')
            commit_all(repo, f"bench: one_pipeline again ({attempt})")
            runs.append(deploy(repo, env, "--changed-since", base))
            outputs.append(runs[-1][1])
        result.deploy["one_wall_runs"] = " / ".join(f"{wall:.1f}" for wall, _ in runs)
        seconds, output = min(runs, key=lambda run: run[0])
        result.deploy["one_wall"] = seconds
        result.deploy["one_images"] = int(number_after(r"Building (\d+) image", output))
        result.deploy["one_images_s"] = number_after(r"Images done in ([\d.]+) s", output)
        result.deploy["one_registered"] = int(number_after(r"Registered (\d+) deployment", output))
        result.deploy["one_register_s"] = number_after(
            r"Registered \d+ deployment\(s\) in ([\d.]+) s", output
        )
        result.deploy["one_plan_s"] = number_after(r"Plan: .*\(([\d.]+) s\)", output)
        registered = set(re.findall(r"^(rj_\S+): (\d+) deployment", output, re.M))
        result.deploy["one_only_that"] = str(registered == {(first, "1")})
        if old_tag and new_tag:
            image = first.replace("_", "-")
            try:
                fresh, count, full = layer_bytes(f"{image}:{old_tag[1]}", f"{image}:{new_tag[1]}")
                result.deploy.update(new_layer_bytes=fresh, new_layers=count, image_bytes=full)
            except (RuntimeError, subprocess.CalledProcessError) as error:
                result.notes.append(f"layer bytes not measured: {error}")
        if with_all:
            measure_all(repo, base, env, result, sample, outputs)
    finally:
        for output in outputs:
            stop_server(output)
        git(repo, "checkout", "-q", "master")


def measure_all(
    repo: Path, base: str, env: dict[str, str], result: SizeResult, sample: int, outputs: list[str]
) -> None:
    # Images for a sample of `sample` pipelines, through the same tool (code change in each, one run).
    git(repo, "checkout", "-q", "-B", "bench/sample", base)
    count = len(generated(repo))
    sample = min(sample, count)
    for index in range(1, sample + 1):
        touch_code((10 + index) % count)(repo)
    commit_all(repo, "bench: sample")
    _, output = deploy(repo, env, "--changed-since", base)
    outputs.append(output)
    sample_images_s = number_after(r"Images done in ([\d.]+) s", output)
    one_images_s = float(result.deploy["one_images_s"])
    marginal = max((sample_images_s - one_images_s) / max(sample - 1, 1), 0.0)
    total = result.total_pipelines
    result.deploy.update(sample=sample, sample_images_s=sample_images_s, marginal_image_s=marginal)
    result.deploy["all_images_s_extrapolated"] = one_images_s + (total - 1) * marginal
    # Registration of every deployment for real; images skipped (no engine reachable for this run only).
    git(repo, "checkout", "-q", "master")
    no_docker = {**env, "DOCKER_HOST": f"unix://{repo.parent}/no-docker.sock"}
    seconds, output = deploy(repo, no_docker, "--all")
    outputs.append(output)
    result.deploy["all_wall_no_images"] = seconds
    result.deploy["all_registered"] = int(number_after(r"Registered (\d+) deployment", output))
    result.deploy["all_register_s"] = number_after(r"Registered \d+ deployment\(s\) in ([\d.]+) s", output)
    result.deploy["all_wall_estimated"] = seconds + float(result.deploy["all_images_s_extrapolated"])
    measure_cli_registration(repo, env, result, port_url(output))


def port_url(output: str) -> str | None:
    match = re.search(r"server at (http://\S+?)[\s(]", output)
    return (
        f"{match[1].rstrip('/')}/api"
        if match and not match[1].endswith("/api")
        else (match[1] if match else None)
    )


def measure_cli_registration(
    repo: Path, env: dict[str, str], result: SizeResult, api_url: str | None, calls: int = 5
) -> None:
    """One `prefect deploy --name <deployment>` per deployment, as the original repository's CI does."""
    if api_url is None:
        result.notes.append("CLI registration not measured: server URL not found in the deploy output")
        return
    # This interpreter has prefect (BUILD); `prefect deploy` falls back to parsing flow.py if imports fail.
    cli_env = {**env, "PREFECT_API_URL": api_url, "IMAGE_TAG": "bench-cli", "PYTHONPATH": str(repo)}
    started = time.monotonic()
    done = 0
    for name in generated(repo)[:calls]:
        deployment = "rj-" + name[3:].replace("__", "--").replace("_", "-") + "--staging"
        seconds, completed = run(
            repo,
            sys.executable,
            "-m",
            "prefect",
            "--no-prompt",
            "deploy",
            "--name",
            deployment,
            "--prefect-file",
            f"pipelines/{name}/prefect.yaml",
            env=cli_env,
            timeout=300,
        )
        if completed.returncode != 0:
            result.notes.append(
                f"prefect deploy {deployment} failed: {completed.stderr[-500:] or completed.stdout[-500:]}"
            )
            continue
        done += 1
    total = time.monotonic() - started
    result.deploy["cli_calls"] = done
    result.deploy["cli_per_deployment_s"] = total / done if done else float("nan")


# --------------------------------------------------------------------------- report


def fmt(value: float | int | str | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}{unit}" if value >= 10 else f"{value:.2f}{unit}"
    return f"{value}{unit}"


DEPLOY_ROWS = (
    ("one_wall_runs", "deploy 1 pipeline: wall of each run (s)"),
    ("one_wall", "deploy 1 pipeline: wall, best run (s)"),
    ("one_plan_s", "deploy 1 pipeline: plan (s)"),
    ("one_images", "deploy 1 pipeline: images built"),
    ("one_images_s", "deploy 1 pipeline: images (s)"),
    ("one_registered", "deploy 1 pipeline: deployments registered"),
    ("one_only_that", "deploy 1 pipeline: only that pipeline's"),
    ("one_register_s", "deploy 1 pipeline: registration (s)"),
    ("new_layer_bytes", "code change: bytes of new layers"),
    ("new_layers", "code change: new layers"),
    ("image_bytes", "code change: full image bytes"),
    ("sample_images_s", "sample: images (s) for k pipelines"),
    ("marginal_image_s", "sample: marginal s per extra image"),
    ("all_registered", "--all: deployments registered (real)"),
    ("all_register_s", "--all: registration (s, real)"),
    ("all_wall_no_images", "--all: wall without images (s, real)"),
    ("all_images_s_extrapolated", "--all: images (s, EXTRAPOLATED)"),
    ("all_wall_estimated", "--all: wall (s, real + extrapolated)"),
    ("cli_per_deployment_s", "registration, 1 CLI call per deployment (s/deployment)"),
)


def _from(attribute: str, key: str) -> Callable[[SizeResult], float | int | str | None]:
    def get(result: SizeResult) -> float | int | str | None:
        values: Mapping[str, float | int | str | bool] = getattr(result, attribute)
        value = values.get(key)
        return str(value) if isinstance(value, bool) else value

    return get


def _missed_extra(scenario: str, method: str) -> Callable[[SizeResult], str | None]:
    def get(result: SizeResult) -> str | None:
        if scenario not in result.correctness:
            return None
        missed, extra = result.correctness[scenario][method]
        return f"{missed}/{extra}"

    return get


def table(results: Sequence[SizeResult]) -> list[str]:
    header = ["Measurement"] + [f"N={r.size} ({r.total_pipelines} pipelines)" for r in results]
    rows: list[list[str]] = []

    def row(label: str, get: Callable[[SizeResult], float | int | str | None], unit: str = "") -> None:
        rows.append([label] + [fmt(get(r), unit) for r in results])

    row("generate copy (s)", lambda r: r.generate_s)
    for name in QUERY_SCENARIOS:
        row(f"query {name}: cold (s)", _from("cold", name))
        row(f"query {name}: warm, 1st after change (s)", _from("warm", name))
        row(f"query {name}: warm, repeated (s)", _from("warm_repeat", name))
    for name in [s.name for s in scenarios()]:
        row(f"affected {name}: pipelines (Pants)", _from("truth_sizes", name))
        row(f"affected {name}: matches grep check", _from("independent_ok", name))
        for method in ("pants", "last_commit_dirs", "path_filters"):
            row(f"affected {name}: {method} missed/extra", _missed_extra(name, method))
    for key, label in DEPLOY_ROWS:
        row(label, _from("deploy", key))
    widths = [max(len(line[i]) for line in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in rows)]


def ratios(results: Sequence[SizeResult]) -> str:
    by_size = {r.size: r for r in results}
    small, large = by_size[min(by_size)], by_size[max(by_size)]
    parts = []
    if "one_wall" in small.deploy and "one_wall" in large.deploy:
        parts.append(
            f"one-pipeline wall N={large.size}/N={small.size} = "
            f"{float(large.deploy['one_wall']) / float(small.deploy['one_wall']):.2f}x"
            " (target <= 1.3, best runs)"
        )
    if "all_wall_estimated" in large.deploy:
        share = 100 * float(large.deploy["one_wall"]) / float(large.deploy["all_wall_estimated"])
        parts.append(f"one-pipeline/--all at N={large.size} = {share:.1f}% (target <= 5%)")
    if large.warm:
        parts.append(f"warm query N={large.size} max = {max(large.warm.values()):.2f}s (target <= 2)")
    for method in ("pants", "last_commit_dirs", "path_filters"):
        missed = sum(r.correctness[s][method][0] for r in results for s in r.correctness)
        extra = sum(r.correctness[s][method][1] for r in results for s in r.correctness)
        parts.append(f"{method} missed/extra = {missed}/{extra}")
    if "cli_per_deployment_s" in large.deploy and large.deploy.get("all_registered"):
        per = float(large.deploy["all_register_s"]) / float(large.deploy["all_registered"])
        speedup = float(large.deploy["cli_per_deployment_s"]) / per
        parts.append(f"registration one process vs CLI = {speedup:.0f}x faster")
    for r in results:
        if "image_bytes" in r.deploy:
            share = 100 * float(r.deploy["new_layer_bytes"]) / float(r.deploy["image_bytes"])
            parts.append(f"new layer bytes/full image = {share:.3f}%")
            break
    return "RATIOS: " + "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Change-aware path at several repository sizes.")
    parser.add_argument("--sizes", default="3,50,200", help="generated pipelines per copy, comma-separated")
    parser.add_argument("--deploy-sizes", default="3,200", help="sizes where the full deploy path runs")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-change-aware"))
    parser.add_argument("--sample", type=int, default=3, help="images built for the --all extrapolation")
    parser.add_argument(
        "--repeats", type=int, default=2, help="one-pipeline deploys per size (the best one is compared)"
    )
    parser.add_argument("--port", type=int, default=4310, help="first port for the local Prefect servers")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    deploy_sizes = {int(s) for s in args.deploy_sizes.split(",") if s}
    if args.workdir.resolve() == REPO_ROOT or REPO_ROOT in args.workdir.resolve().parents:
        parser.error("--workdir must be outside the working tree")
    if deploy_sizes & set(sizes) and not os.environ.get("OS_IMAGE"):
        parser.error("set OS_IMAGE (docs/imagem-base.md) or pass --deploy-sizes ''")
    results = []
    for index, size in enumerate(sizes):
        result = SizeResult(size)
        repo = args.workdir / f"n{size}" / "repo"
        started = time.monotonic()
        generate_monorepo.generate(repo, size)
        result.generate_s = time.monotonic() - started
        base = git(repo, "rev-parse", "HEAD").strip()
        branches = make_branches(repo, base)
        print(f"[N={size}] generated in {result.generate_s:.1f} s; measuring queries...", flush=True)
        measure_queries(repo, base, branches, result)
        if size in deploy_sizes:
            print(f"[N={size}] measuring the deploy path...", flush=True)
            try:
                measure_deploy(
                    repo,
                    base,
                    result,
                    port=args.port + index,
                    with_all=size == max(deploy_sizes),
                    sample=args.sample,
                    repeats=args.repeats,
                )
            except (RuntimeError, subprocess.SubprocessError) as error:
                result.notes.append(f"deploy path incomplete: {error}")
        results.append(result)
        (args.workdir / f"n{size}" / "result.json").write_text(
            json.dumps(asdict(result), indent=2, default=str)
        )
        for note in result.notes:
            print(f"[N={size}] note: {note}", flush=True)
    print()
    print("\n".join(table(results)))
    print()
    print(ratios(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
