"""A pull request's checks with and without the remote cache (issue 25, docs/ci.md), on a copy with N
generated pipelines and a change to one pipeline's tasks.py:

    ./pants run tools/benchmarks/pr_checks_cache.py -- --size 3 --work /tmp/bench-pr-cache

Runners (fresh ones start from an empty HOME and cache root, at the same path; the Pants bootstrap is this
machine's, as the workflows restore it):
- master: a fresh runner builds the base commit's affected targets with the cache on (read and write), as
  main-checks.yaml would, filling a BuildGrid on 127.0.0.1 (build-support/ci/start-buildgrid.sh);
- warm (c): the same runner, its caches warm, checks the pull request without the remote cache;
- cold (a): a fresh runner with empty caches and no remote cache;
- remote (b): a fresh runner with empty caches that reads the remote cache (pr-checks.yaml).

Measured: the PR checks' fast step (`--tag=-e2e test` of the changed targets and their dependents) with
pants.ci.toml. Not yet: check (mypy), lint, the e2e tests and the images; N=200; the full suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks.generate_monorepo import generate
from repo_testing.deploy_support import free_port
from repo_testing.workspace import REPO_ROOT, commit_all, git

PR_STEP = ("--changed-since=HEAD~1", "--changed-dependents=transitive", "--tag=-e2e", "test")
INSTANCE = "pipelines"


def pants(repo: Path, env: Mapping[str, str], *args: str) -> float:
    """Runs ./pants in ``repo``; its wall in seconds (fails on a failed run)."""
    started = time.monotonic()
    result = subprocess.run(
        ["./pants", "--stats-log", *args], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    wall = time.monotonic() - started
    if result.returncode != 0:
        sys.exit(
            f"./pants {' '.join(args)} failed in {repo}:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
        )
    return wall


def runner_env(runner: Path, address: str | None, write: bool) -> dict[str, str]:
    cache_root = os.environ.get("XDG_CACHE_HOME") or str(Path(os.environ["HOME"]) / ".cache")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PANTS_REMOTE_", "PEX")) and key not in {"PIPELINES_REPO_ROOT", "PYTHONPATH"}
    }
    env.update(
        HOME=str(runner / "home"),
        XDG_CACHE_HOME=str(runner / "cache"),
        PANTS_LAUNCHER_CACHE=os.environ.get("PANTS_LAUNCHER_CACHE") or f"{cache_root}/rio-pipelines-pants",
        PANTS_CONFIG_FILES="pants.ci.toml",
        CI="true",
    )
    if address:
        env.update(
            PANTS_REMOTE_CACHE_READ="true",
            PANTS_REMOTE_CACHE_WRITE=str(write).lower(),
            PANTS_REMOTE_STORE_ADDRESS=address,
            PANTS_REMOTE_INSTANCE_NAME=INSTANCE,
        )
    return env


def fresh_runner(runner: Path, source: Path, commit: str) -> Path:
    shutil.rmtree(runner, ignore_errors=True)
    (runner / "home").mkdir(parents=True)
    repo = runner / "repo"
    git(source.parent, "clone", "-q", str(source), str(repo))
    git(repo, "checkout", "-q", commit)
    for derived in ("3rdparty/python/default.lock", "3rdparty/python/default.lock.inputs"):
        shutil.copy2(source / derived, repo / derived)
    return repo


def start_buildgrid(run_dir: Path) -> tuple[str, int]:
    port = free_port()
    env = {**os.environ, "BUILDGRID_RUN_DIR": str(run_dir), "BUILDGRID_PORT": str(port)}
    env["BUILDGRID_INSTANCE"] = INSTANCE
    bgd = os.environ.get("PIPELINES_TEST_BUILDGRID")
    if bgd:
        env["BUILDGRID_VENV"] = str(Path(bgd).parent.parent)
    script = REPO_ROOT / "build-support/ci/start-buildgrid.sh"
    subprocess.run(["bash", str(script)], env=env, check=True, stdout=subprocess.DEVNULL)
    return f"grpc://127.0.0.1:{port}", int((run_dir / "server.pid").read_text())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=3, help="number of generated pipelines")
    parser.add_argument("--work", type=Path, required=True, help="work directory (outside the repo)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    work: Path = args.work.resolve()
    source = work / "source"
    pipeline = generate(source, args.size)[0].dir_name
    base = git(source, "rev-parse", "HEAD").strip()
    tasks = source / "pipelines" / pipeline / "tasks.py"
    tasks.write_text(tasks.read_text() + "\n\n# changed by the pull request\n")
    commit_all(source, "a pull request")

    (work / "buildgrid").mkdir(parents=True, exist_ok=True)
    address, pid = start_buildgrid(work / "buildgrid")
    runner = work / "runner"
    walls: dict[str, float] = {}
    try:
        repo = fresh_runner(runner, source, base)
        master_env = runner_env(runner, address, write=True)
        pants(repo, master_env, "--version")
        walls["master build (fills the cache)"] = pants(repo, master_env, *PR_STEP)
        print(f"master: {walls['master build (fills the cache)']:.0f} s", flush=True)
        git(repo, "fetch", "-q", str(source), "HEAD")
        git(repo, "checkout", "-q", "FETCH_HEAD")
        walls["warm"] = pants(repo, runner_env(runner, None, write=False), *PR_STEP)
        print(f"warm: {walls['warm']:.0f} s", flush=True)
        for name, remote in (("cold", None), ("remote", address)):
            repo = fresh_runner(runner, source, "HEAD")
            env = runner_env(runner, remote, write=False)
            pants(repo, env, "--version")
            walls[name] = pants(repo, env, *PR_STEP)
            print(f"{name}: {walls[name]:.0f} s", flush=True)
    finally:
        os.kill(pid, signal.SIGTERM)

    print(f"\nN={args.size}, change: pipelines/{pipeline}/tasks.py, step: ./pants {' '.join(PR_STEP)}")
    for name, wall in walls.items():
        print(f"  {name:32} {wall:7.1f} s")
    print(
        f"RATIOS: pr remote/warm = {walls['remote'] / walls['warm']:.2f}x; "
        f"pr cold/warm = {walls['cold'] / walls['warm']:.2f}x; "
        f"pr remote wall N={args.size} = {walls['remote']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
