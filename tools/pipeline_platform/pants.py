"""Nested Pants runs and the target graph they describe (`./pants peek` output)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Set inside `private_daemon`: the subprocess dir of the daemon that nested runs share.
_daemon_dir: ContextVar[Path | None] = ContextVar("private_pants_daemon", default=None)
# Set by run_tool.sh: the subprocess dir of the daemon its `package` of the tool started or found, so that
# every nested run of the tool, the plan's included, goes through that one daemon.
DAEMON_DIR_ENV = "PIPELINES_PANTSD_DIR"
DAEMON_STOP_TIMEOUT_S = 15.0


class PantsError(RuntimeError):
    """A nested ./pants run failed; the message ends with the tail of its stderr."""


@contextlib.contextmanager
def private_daemon(repo: Path) -> Iterator[None]:
    """Nested Pants runs inside this block share one pantsd, stopped when the block ends if it started it.

    A deploy runs Pants twice (the plan, then the images): with one daemon they pay Pants's start-up (its
    rule graph) and the walk of the whole target graph once, not per run. The daemon is private (its own
    subprocess dir) because under ``./pants run`` the outer invocation holds the repository's daemon, and
    a nested run that asks for that one waits 60 s and fails. It lives only as long as the block, so
    nothing it memoized (docker builds included) outlives the commit being deployed.

    Under ``run_tool.sh`` (``$PIPELINES_PANTSD_DIR`` set) the block uses that daemon instead of starting
    another, and leaves it to its owner: the launcher stops its own when the tool ends; a CI job's daemon,
    shared by its steps, ends with the job.
    """
    shared = shared_daemon_dir(repo)
    directory = shared or repo / ".pids" / f"nested-{os.getpid()}"
    token = _daemon_dir.set(directory)
    try:
        yield
    finally:
        _daemon_dir.reset(token)
        if shared is None:
            stop_daemons(directory)


def shared_daemon_dir(repo: Path) -> Path | None:
    """The daemon directory named by ``$PIPELINES_PANTSD_DIR`` (relative to ``repo`` unless absolute)."""
    value = os.environ.get(DAEMON_DIR_ENV, "").strip()
    return repo / value if value else None


def stop_daemons(directory: Path) -> None:
    """Stops every pantsd whose subprocess dir is under ``directory`` (TERM, then KILL after a timeout) and
    removes ``directory``."""
    # A pid file being written may be empty: never pid 0 (os.kill(0) signals our own process group).
    texts = [pid_file.read_text().strip() for pid_file in directory.glob("**/pantsd/pid")]
    pids = [int(text) for text in texts if text.isdigit() and int(text) > 0]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + DAEMON_STOP_TIMEOUT_S
    for pid in pids:
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    shutil.rmtree(directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def run_pants(repo: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Runs ``./pants`` in ``repo`` and returns its stdout.

    Inside ``private_daemon`` the run goes through that daemon; otherwise through the launcher's daemon
    (``$PIPELINES_PANTSD_DIR``, already up) when there is one, else without one (a one-off query: starting
    a daemon would cost more than it saves).
    """
    directory = _daemon_dir.get() or shared_daemon_dir(repo)
    daemon = ["--pantsd", f"--pants-subprocessdir={directory}"] if directory else ["--no-pantsd"]
    command = ["./pants", *daemon, "--no-dynamic-ui", "--no-colors", *args]
    # Pants runs on its own interpreter: a PYTHONPATH meant for this one would break it before it starts.
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        command,
        cwd=repo,
        capture_output=True,
        text=True,
        env={**environment, **(env or {})},
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-25:])
        raise PantsError(f"{' '.join(command[:1] + list(args))} failed (exit {result.returncode}):\n{tail}")
    return result.stdout


@dataclass(frozen=True)
class Target:
    address: str
    target_type: str
    dependencies: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    repository: str | None = None


@dataclass
class TargetGraph:
    """Targets by address, with dependency edges resolved by Pants (explicit and inferred)."""

    targets: dict[str, Target] = field(default_factory=dict)

    @classmethod
    def from_peek(cls, output: str) -> TargetGraph:
        text = output.strip()
        entries: list[dict[str, Any]] = json.loads(text) if text else []
        return cls({entry["address"]: _target(entry) for entry in entries})

    def __contains__(self, address: object) -> bool:
        return address in self.targets

    def __len__(self) -> int:
        return len(self.targets)

    def owners(self, files: Iterable[str]) -> set[str]:
        """Targets whose sources include one of ``files``."""
        wanted = set(files)
        return {address for address, target in self.targets.items() if wanted.intersection(target.sources)}

    def dependents(self) -> dict[str, set[str]]:
        reverse: dict[str, set[str]] = {address: set() for address in self.targets}
        for address, target in self.targets.items():
            for dependency in target.dependencies:
                reverse.setdefault(dependency, set()).add(address)
        return reverse

    def transitive_dependents(self, roots: Iterable[str]) -> set[str]:
        """``roots`` and everything depending on them, directly or not."""
        reverse = self.dependents()
        seen = set(roots)
        queue = deque(seen)
        while queue:
            for dependent in reverse.get(queue.popleft(), ()):
                if dependent not in seen:
                    seen.add(dependent)
                    queue.append(dependent)
        return seen

    def transitive_dependencies(self, root: str) -> set[str]:
        """Every address ``root`` depends on, directly or not (those outside this graph as leaves)."""
        seen: set[str] = set()
        queue = deque([root])
        while queue:
            target = self.targets.get(queue.popleft())
            for dependency in target.dependencies if target else ():
                if dependency not in seen:
                    seen.add(dependency)
                    queue.append(dependency)
        return seen

    def subgraph(self, addresses: Iterable[str]) -> TargetGraph:
        return TargetGraph(
            {address: self.targets[address] for address in addresses if address in self.targets}
        )

    def shortest_path(self, start: str, goals: Sequence[str] | set[str]) -> list[str] | None:
        """Shortest dependency path from ``start`` down to one of ``goals`` (as ``./pants paths`` walks it).

        Walks ``start``'s dependencies breadth first within this graph; ties go to the goal found first in
        sorted order, so the answer is deterministic.
        """
        targets = set(goals)
        parents: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if node in targets:
                path = [node]
                while (parent := parents[path[-1]]) is not None:
                    path.append(parent)
                return list(reversed(path))
            target = self.targets.get(node)
            for dependency in sorted(target.dependencies if target else ()):
                if dependency in self.targets and dependency not in parents:
                    parents[dependency] = node
                    queue.append(dependency)
        return None


def _target(entry: dict[str, Any]) -> Target:
    repository = entry.get("repository")
    return Target(
        address=entry["address"],
        target_type=entry["target_type"],
        dependencies=tuple(entry.get("dependencies") or ()),
        sources=tuple(entry.get("sources") or ()),
        repository=repository if isinstance(repository, str) else None,
    )


def peek_changed(repo: Path, since: str) -> TargetGraph:
    """The targets changed since ``since`` plus their transitive dependents, in one Pants run."""
    output = run_pants(repo, f"--changed-since={since}", "--changed-dependents=transitive", "peek")
    return TargetGraph.from_peek(output)


def peek_all(repo: Path) -> TargetGraph:
    """Every target of the repository with its dependencies, in one Pants run."""
    return peek(repo, "::")


def peek(repo: Path, *specs: str) -> TargetGraph:
    """The targets ``specs`` name (``dir::``, ``dir:``, addresses) and their dependencies, in one run."""
    return TargetGraph.from_peek(run_pants(repo, "peek", *specs))
