"""A pull request's checks with and without the remote cache (issue 25, docs/ci.md): the PR checks job of
pr-checks.yaml, run as a fresh GitHub runner runs it (repo_testing/workflow_runner.py), on a copy with N
generated pipelines and a change to one pipeline's tasks.py; then the full test suite of this repository.

    ./pants run tools/benchmarks/pr_checks_cache.py -- --sizes 3 200 --work /tmp/bench-pr-cache

Per size, a copy's history is: N generated pipelines, then master's previous change to the pipeline's
tasks.py, then the pull request's change to it. Runners:
- master: a fresh runner checks master's previous change with the remote cache read and written (the PR
  checks' steps, so that it holds what the pull request needs, as main-checks.yaml's build of master does),
  filling a BuildGrid on 127.0.0.1 (build-support/ci/start-buildgrid.sh);
- warm (c): the same runner and Docker engine, caches warm, checks the pull request without the remote cache;
- cold (a): a fresh runner with empty caches, an empty engine and no remote cache;
- remote (b): a fresh runner with empty caches and an empty engine that reads the remote cache (pr-checks.yaml
  as the city configures it).
A fresh runner starts from an empty HOME and cache root (the stand-in for actions/cache restores nothing),
but keeps this machine's Pants bootstrap (the launcher's cache, restored by pants-setup on every job), and
its Docker engine is a new one (repo_testing/docker_engine.py) given the OS image (GitHub's runners pull it
from Docker Hub).

The full suite: `bash .ci/run` (its test step is the README's `./pants test ::`) on a fresh clone of this
repository's HEAD with an empty cache root, writing the remote cache, then on a second fresh clone at the same
path that reads it; compared by their test steps.

The last line is the RATIOS line of the issue; a part skipped by an option prints `-` in its place.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from benchmarks.generate_monorepo import generate
from repo_testing.deploy_support import free_port
from repo_testing.docker_engine import Engine, throwaway_engine
from repo_testing.workflow_runner import JobResult, JobRunner
from repo_testing.workspace import REPO_ROOT, commit_all, git, stop_pantsd

PR_WORKFLOW = ".github/workflows/pr-checks.yaml"
INSTANCE = "pipelines"
CHANGE_MARK = "# changed by "
# .ci/run's step lines: `==> [<time>, <seconds>s elapsed] <title>`.
CI_STEP = re.compile(r"^==> \[[0-9:]+, (\d+)s elapsed\] (.*)$", re.MULTILINE)
OFFLINE_OS_IMAGE = "rio-pipelines/os:trixie-python3.13"
# What this machine's setup and the outer Pants run set; a fresh runner has none of it.
NOT_ON_A_FRESH_RUNNER = {
    "PIPELINES_TEST_POSTGRES_URL",
    "PIPELINES_TEST_MARIADB_URL",
    "PIPELINES_TEST_GCS_URL",
    "PIPELINES_TEST_BUILDGRID",
    "OS_IMAGE",
    "PIPELINES_REPO_ROOT",
    "PIPELINES_TEMPLATES_DIGEST",
    "PREFECT_HOME",
    "PREFECT_API_URL",
    "IMAGE_TAG",
    "PYTHONPATH",
    "XDG_CACHE_HOME",
    "DOCKER_HOST",
    "GITHUB_STEP_SUMMARY",
}


def machine_cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path(os.environ["HOME"]) / ".cache")


# --------------------------------------------------------------------------- runners


@dataclass
class Runner:
    """One CI runner: its checkout, HOME and cache root, and its Docker engine."""

    root: Path
    docker_host: str  # the engine's socket, at a path every runner shares (new_runner)

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {
            **fresh_runner_environment(),
            "HOME": str(self.root / "home"),
            "XDG_CACHE_HOME": str(self.root / "cache"),
            # The Pants bootstrap (and the lockfiles it derives from the pins): pants-setup restores it.
            "PANTS_LAUNCHER_CACHE": os.environ.get("PANTS_LAUNCHER_CACHE")
            or str(machine_cache_root() / "rio-pipelines-pants"),
            "DOCKER_HOST": self.docker_host,
            **(extra or {}),
        }


def fresh_runner_environment() -> dict[str, str]:
    """This machine's environment without what its setup and the outer Pants run set."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in NOT_ON_A_FRESH_RUNNER and not key.startswith(("PANTS_", "PEX"))
    }


def new_runner(root: Path, engine: Engine) -> Runner:
    """An empty runner at ``root``. Its engine's socket is linked beside it, at one path for every runner:
    DOCKER_HOST is in the tests' environment, hence in their cache keys, and on GitHub it never changes."""
    shutil.rmtree(root, ignore_errors=True)
    (root / "home").mkdir(parents=True)
    (root / "cache").mkdir()
    link = root.parent / "docker.sock"
    link.unlink(missing_ok=True)
    link.symlink_to(engine.host.removeprefix("unix://"))
    return Runner(root, f"unix://{link}")


def checkout(runner: Runner, source: Path, commit: str, base: str) -> None:
    """The runner's clone of ``source`` at ``commit``, with ``base`` as origin/master (checkout's fetch-depth
    0 and a pull request's base branch)."""
    shutil.rmtree(runner.repo, ignore_errors=True)
    git(source.parent, "clone", "-q", str(source), str(runner.repo))
    git(runner.repo, "checkout", "-q", commit)
    git(runner.repo, "update-ref", "refs/remotes/origin/master", base)


@contextlib.contextmanager
def fresh_engine() -> Iterator[Engine]:
    """An empty engine holding only the OS image (GitHub's runners pull it; here it comes from this
    machine's engine)."""
    with throwaway_engine() as engine:
        engine.load_image_from(OFFLINE_OS_IMAGE)
        yield engine


def pr_contexts(runner: Runner, address: str | None) -> dict[str, Any]:
    return {
        "github": {
            "base_ref": "master",
            "sha": git(runner.repo, "rev-parse", "HEAD").strip(),
            "event": {"pull_request": {"number": 1}},
        },
        "vars": {"PANTS_REMOTE_CACHE_ADDRESS": address or "", "PANTS_REMOTE_CACHE_INSTANCE": INSTANCE},
        "secrets": {"PANTS_REMOTE_CACHE_TOKEN": "", "PANTS_REMOTE_CACHE_BASIC_AUTH": ""},
    }


def writing_workflow(runner: Runner) -> Path:
    """pr-checks.yaml with the remote cache written, as master's builds write it."""
    document = yaml.safe_load((runner.repo / PR_WORKFLOW).read_text())
    steps = document["jobs"]["checks"]["steps"]
    setup = next(step for step in steps if step.get("uses") == "./.github/actions/pants-setup")
    setup["with"]["remote-cache-write"] = "true"
    path = runner.root / "pr-checks-writing.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def run_pr_checks(runner: Runner, address: str | None, log: Path, workflow: Path | None = None) -> JobResult:
    """The job on ``runner``; its steps' output kept in ``log`` (where a step's time went)."""
    job = JobRunner(runner.repo, pr_contexts(runner, address), env=runner.env())
    result = job.run_job(workflow or runner.repo / PR_WORKFLOW, "checks")
    log.write_text(result.log())
    if not result.ok:
        sys.exit(f"the PR checks failed in {runner.repo} (log {log}):\n{result.log()[-8000:]}")
    return result


# --------------------------------------------------------------------------- the cache server


@contextlib.contextmanager
def buildgrid(run_dir: Path) -> Iterator[str]:
    """A BuildGrid on a free port of 127.0.0.1 (start-buildgrid.sh); its grpc:// address."""
    run_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "BUILDGRID_RUN_DIR": str(run_dir), "BUILDGRID_PORT": str(port)}
    env["BUILDGRID_INSTANCE"] = INSTANCE
    bgd = os.environ.get("PIPELINES_TEST_BUILDGRID")
    if bgd:
        env["BUILDGRID_VENV"] = str(Path(bgd).parent.parent)
    script = REPO_ROOT / "build-support/ci/start-buildgrid.sh"
    subprocess.run(["bash", str(script)], env=env, check=True, stdout=subprocess.DEVNULL)
    pid = int((run_dir / "server.pid").read_text())
    try:
        yield f"grpc://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


# --------------------------------------------------------------------------- one size


@dataclass
class SizeResult:
    size: int
    jobs: dict[str, JobResult] = field(default_factory=dict)

    def wall(self, runner: str) -> float:
        return sum(step.seconds for step in self.jobs[runner].steps)


def progress(label: str, started: float, message: str) -> None:
    print(f"[{label} +{time.monotonic() - started:5.0f} s] {message}", flush=True)


def change_tasks(source: Path, pipeline: str, message: str) -> str:
    """Commits a change to the pipeline's tasks.py: its last line, a comment after two blank lines (as black
    leaves it), added or replaced."""
    tasks = source / "pipelines" / pipeline / "tasks.py"
    body = tasks.read_text().split(f"\n\n\n{CHANGE_MARK}")[0].rstrip("\n")
    tasks.write_text(f"{body}\n\n\n{CHANGE_MARK}{message}\n")
    commit_all(source, message)
    return git(source, "rev-parse", "HEAD").strip()


def measure_size(size: int, work: Path) -> SizeResult:
    started = time.monotonic()
    label = f"N={size}"
    source = work / "source"
    pipeline = generate(source, size)[0].dir_name
    generated = git(source, "rev-parse", "HEAD").strip()
    master = change_tasks(source, pipeline, "master's previous change")
    pull_request = change_tasks(source, pipeline, "the pull request's change")
    progress(label, started, f"generated; the pull request changes pipelines/{pipeline}/tasks.py")
    result = SizeResult(size)
    # Every runner at the same path: the sandboxes' environment (repository root, HOME, cache root) is in
    # the cache key, as on GitHub's runners, whose paths never change.
    root = work / "runner"
    with buildgrid(work / "buildgrid") as address:
        with fresh_engine() as engine:
            runner = new_runner(root, engine)
            try:
                checkout(runner, source, master, generated)
                result.jobs["master"] = run_pr_checks(
                    runner, address, work / "master.log", writing_workflow(runner)
                )
                progress(label, started, f"master (fills the cache): {result.wall('master'):.0f} s")
                checkout_pull_request(runner, source, pull_request, master)
                result.jobs["warm"] = run_pr_checks(runner, None, work / "warm.log")
                progress(label, started, f"warm: {result.wall('warm'):.0f} s")
            finally:
                stop_pantsd(runner.repo)
        for name, remote in (("cold", None), ("remote", address)):
            with fresh_engine() as engine:
                runner = new_runner(root, engine)
                try:
                    checkout(runner, source, pull_request, master)
                    result.jobs[name] = run_pr_checks(runner, remote, work / f"{name}.log")
                finally:
                    stop_pantsd(runner.repo)
            progress(label, started, f"{name}: {result.wall(name):.0f} s")
    shutil.rmtree(root, ignore_errors=True)
    return result


def checkout_pull_request(runner: Runner, source: Path, commit: str, base: str) -> None:
    """The same clone moved to the pull request (a warm machine keeps its checkout and caches)."""
    git(runner.repo, "fetch", "-q", str(source), commit)
    git(runner.repo, "checkout", "-q", commit)
    git(runner.repo, "update-ref", "refs/remotes/origin/master", base)


# --------------------------------------------------------------------------- the full suite


def full_suite(work: Path) -> dict[str, float]:
    """``bash .ci/run`` (whose test step is the README's ``./pants test ::``) on a fresh clone of HEAD with
    an empty cache root, as the developers' guide runs it, cold (writing the remote cache) then on a second
    fresh clone at the same path that reads it; the wall of each run's test step."""
    walls: dict[str, float] = {}
    head = git(REPO_ROOT, "rev-parse", "HEAD").strip()
    with buildgrid(work / "buildgrid-suite") as address:
        for name, write in (("cold", "true"), ("remote", "false")):
            with fresh_engine() as engine:
                runner = new_runner(work / "runner", engine)
                git(REPO_ROOT, "clone", "-q", str(REPO_ROOT), str(runner.repo))
                git(runner.repo, "checkout", "-q", head)
                env = {
                    **fresh_runner_environment(),
                    "XDG_CACHE_HOME": str(runner.root / "cache"),
                    "DOCKER_HOST": runner.docker_host,
                    "CI": "true",
                    "PANTS_REMOTE_CACHE_READ": str(write == "false").lower(),
                    "PANTS_REMOTE_CACHE_WRITE": write,
                    "PANTS_REMOTE_STORE_ADDRESS": address,
                    "PANTS_REMOTE_INSTANCE_NAME": INSTANCE,
                }
                log = work / f"ci-run-{name}.log"
                started = time.monotonic()
                try:
                    with log.open("w") as output:
                        done = subprocess.run(
                            ["bash", ".ci/run"],
                            cwd=runner.repo,
                            env=env,
                            stdout=output,
                            stderr=subprocess.STDOUT,
                        )
                finally:
                    stop_pantsd(runner.repo)
                total = time.monotonic() - started
                text = log.read_text(errors="replace")
                if done.returncode != 0:
                    sys.exit(f".ci/run failed ({name}, log {log}):\n{text[-8000:]}")
            walls[name] = ci_test_seconds(text, log)
            print(f"[suite] {name}: .ci/run {total:.0f} s, its test step {walls[name]:.0f} s", flush=True)
    return walls


def ci_test_seconds(log: str, path: Path) -> float:
    """The wall of .ci/run's test step, from its step lines (the shell's SECONDS there and at the next)."""
    marks = [(int(seconds), title) for seconds, title in CI_STEP.findall(log)]
    for (start, title), (end, _) in pairwise(marks):
        if title.startswith("Tests"):
            return float(end - start)
    raise SystemExit(f"no test step in .ci/run's output ({path})")


# --------------------------------------------------------------------------- report


def size_table(result: SizeResult) -> None:
    names = list(result.jobs)
    steps = [step.name for step in result.jobs["cold"].steps if step.seconds >= 0.5]
    print(f"\nN={result.size}: the PR checks job, seconds per step")
    print(f"  {'step':60}" + "".join(f"{name:>9}" for name in names))
    for step_name in steps:
        cells = []
        for name in names:
            seconds = next((s.seconds for s in result.jobs[name].steps if s.name == step_name), None)
            cells.append(f"{seconds:9.1f}" if seconds is not None else f"{'-':>9}")
        print(f"  {step_name[:60]:60}" + "".join(cells))
    print(f"  {'job':60}" + "".join(f"{result.wall(name):9.1f}" for name in names), flush=True)


def ratios_line(results: Sequence[SizeResult], suite: Mapping[str, float]) -> str:
    """The issue's RATIOS line: the worst size's ratios, the largest size's wall; ``-`` for a part not run."""
    remote_warm = max((r.wall("remote") / r.wall("warm") for r in results), default=None)
    cold_warm = max((r.wall("cold") / r.wall("warm") for r in results), default=None)
    largest = max(results, key=lambda r: r.size, default=None)
    return (
        f"RATIOS: pr remote/warm = {_times(remote_warm)}; pr cold/warm = {_times(cold_warm)}; "
        f"pr remote wall N={largest.size if largest else 200} = "
        f"{f'{largest.wall('remote'):.0f}' if largest else '-'} s; "
        f"full suite remote/cold = {_times(suite['remote'] / suite['cold'] if suite else None)}"
    )


def _times(value: float | None) -> str:
    return f"{value:.2f}x" if value is not None else "-"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[3, 200], help="numbers of generated pipelines"
    )
    parser.add_argument("--no-full-suite", action="store_true", help="skip the full suite's two runs")
    parser.add_argument("--work", type=Path, required=True, help="work directory (outside the repo)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    work: Path = args.work.resolve()
    if work == REPO_ROOT or REPO_ROOT in work.parents:
        parser.error("--work must be outside the working tree")
    results = []
    for size in args.sizes:
        results.append(measure_size(size, work / f"n{size}"))
        size_table(results[-1])
    suite = {} if args.no_full_suite else full_suite(work / "suite")
    if suite:
        print(
            f"\nfull suite (.ci/run's test step): cold {suite['cold']:.0f} s, remote {suite['remote']:.0f} s"
        )
    print(ratios_line(results, suite))
    return 0


if __name__ == "__main__":
    sys.exit(main())
