"""Where a deploy's wall time goes, from what it prints and what Pants logs (fresh_runner.py).

- ``run_timed`` runs a command on a pseudo-terminal (so that every line arrives when it is printed, not when a
  pipe buffer fills) and stamps each line with the wall-clock time it arrived.
- ``pants_workunits`` reads the ``Starting:``/``Completed:`` lines Pants writes with timestamps to
  ``.pants.d/run-tracker/<run>/logs`` for every run (the launcher's ``./pants package`` and the deploy
  tool's nested ones): pex builds and docker builds, with their start and end.
- ``phases`` splits the deploy: the tool's own printed timings (plan, images, registration), the launcher's
  lockfile derivation, the workunits inside the images step, and the push seen by the registry relay.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
WORKUNIT = re.compile(r"^(\d\d):(\d\d):(\d\d(?:\.\d+)?) \[\w+\] (Starting|Completed|Canceled): (.*)$")
# The milliseconds are not zero-padded (pants_run_2026_12_01_10_35_13_70_<uuid>).
RUN_DIR = re.compile(r"^pants_run_(\d{4})_(\d\d)_(\d\d)_(\d\d)_(\d\d)_(\d\d)_(\d{1,3})_")
TERMINAL_COLUMNS = 300


class DeployFailed(RuntimeError):
    """A measured command failed; the message names its log."""


@dataclass(frozen=True)
class Line:
    at: float  # wall-clock time the line arrived
    text: str


@dataclass(frozen=True)
class TimedRun:
    started: float
    ended: float
    returncode: int
    lines: tuple[Line, ...]

    @property
    def wall(self) -> float:
        return self.ended - self.started

    def first(self, pattern: str) -> tuple[Line, re.Match[str]] | None:
        regex = re.compile(pattern)
        for line in self.lines:
            if match := regex.search(line.text):
                return line, match
        return None

    @property
    def output(self) -> str:
        return "\n".join(line.text for line in self.lines)


def run_timed(
    command: Sequence[str], cwd: Path, env: Mapping[str, str], log: Path, timeout: float = 3600
) -> TimedRun:
    """Runs ``command`` on a pseudo-terminal in its own session; each line stamped on arrival, and logged."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, TERMINAL_COLUMNS, 0, 0))
    started = time.time()
    process = subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    lines: list[Line] = []
    pending = b""
    try:
        with log.open("w") as out:
            out.write(f"$ {' '.join(command)}\n# started at {started:.2f} (Unix time); seconds since then:\n")

            def take(data: bytes, now: float) -> bytes:
                *complete, rest = data.split(b"\n")
                for raw in complete:
                    text = ANSI.sub("", raw.decode(errors="replace")).replace("\r", "")
                    lines.append(Line(now, text))
                    out.write(f"{now - started:8.2f}  {text}\n")
                out.flush()
                return rest

            deadline = started + timeout
            while True:
                if time.time() > deadline:
                    raise DeployFailed(f"{command[0]} timed out after {timeout:.0f} s (log: {log})")
                # After the command exits, what its detached children (pantsd) hold open is not waited for.
                ready, _, _ = select.select([master], [], [], 0.2 if process.poll() is not None else 5)
                if not ready:
                    if process.poll() is not None:
                        break
                    continue
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer closed the terminal
                    break
                if not data:
                    break
                pending = take(pending + data, time.time())
            if pending:
                take(pending + b"\n", time.time())
    finally:
        os.close(master)
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        returncode = process.wait()
    return TimedRun(started, time.time(), returncode, tuple(lines))


@dataclass(frozen=True)
class Workunit:
    description: str
    start: float
    end: float


def _run_started(name: str) -> float | None:
    match = RUN_DIR.match(name)
    if not match:
        return None
    year, month, day, hour, minute, second, millis = (int(group) for group in match.groups())
    return dt.datetime(year, month, day, hour, minute, second, millis * 1000).timestamp()


def _parse_log(text: str, run_started: float) -> list[Workunit]:
    """Workunits of one run's log; times are local HH:MM:SS.ss on the run's day (or the next, after 0:00)."""
    day = dt.datetime.fromtimestamp(run_started).replace(hour=0, minute=0, second=0, microsecond=0)
    started: dict[str, float] = {}
    found = []
    for line in text.splitlines():
        match = WORKUNIT.match(line)
        if not match:
            continue
        hour, minute, second, kind, description = match.groups()
        at = (day + dt.timedelta(hours=int(hour), minutes=int(minute), seconds=float(second))).timestamp()
        if at < run_started - 12 * 3600:
            at += 24 * 3600
        if kind == "Starting":
            started[description] = at
        elif description in started:
            found.append(Workunit(description, started.pop(description), at))
    return found


def pants_workunits(repo: Path, since: float) -> list[Workunit]:
    """Workunits of every Pants run in ``repo`` that started after ``since`` (wall-clock time)."""
    found: list[Workunit] = []
    for run in sorted((repo / ".pants.d" / "run-tracker").glob("pants_run_*")):
        run_started = _run_started(run.name)
        if run_started is None or run_started < since - 1 or not (run / "logs").is_file():
            continue
        found.extend(_parse_log((run / "logs").read_text(errors="replace"), run_started))
    return found


def covered(intervals: Iterable[tuple[float, float]], low: float, high: float) -> float:
    """Seconds of [low, high] covered by the union of ``intervals``."""
    clipped = sorted((max(a, low), min(b, high)) for a, b in intervals if b > low and a < high)
    total, end = 0.0, low
    for a, b in clipped:
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def _seconds(run: TimedRun, pattern: str, group: int = 1) -> tuple[float, float] | None:
    """(arrival time, number printed) of the first line matching ``pattern``."""
    found = run.first(pattern)
    return (found[0].at, float(found[1][group])) if found else None


PEX = re.compile(r"^Building .*\.pex\b|^Building \d+ requirements? for ")
DOCKER_BUILD = re.compile(r"^Building docker image (\S+)")
LOCKFILE_RESOLVE = re.compile(r"^Generate lockfile")
DERIVING = r"Deriving .* from the committed pins"  # ./pants, before it generates the lockfile
# deploy_prefect_flows.sh's `./pants package` of the tool's requirements: after it, the tool's pex starts.
LAUNCHER_PACKAGED = r"Wrote dist/tools/deploy-tool-deps\.pex"
# Sub-phases of the images step, inside the tool's "Images done in x s".
IMAGE_PHASES = ("pex", "base_build", "pipeline_build", "push", "images_other")

# Row labels of each phase in the benchmarks' tables, in the order of a deploy.
PHASE_ROWS = (
    ("lockfile", "lockfile derived from the pins (s)"),
    ("lockfile_resolve", "  of which the resolve, Pants's 'Generate lockfile' (s)"),
    ("pants_start", "Pants start (the deploy's one pantsd) + package of the tool's deps pex (s)"),
    ("tool_start", "tool start: its pex's venv, imports (s)"),
    ("outer_start", "outer ./pants run start + tool pex, without the launcher (s)"),
    ("plan", "plan, the tool's figure (through the deploy's pantsd) (s)"),
    ("pull", "pull of the images being replaced, the tool's figure (s)"),
    ("base_lookup", "published base: inputs hash (a Pants query) + pull, the tool's figure (s)"),
    ("base_first", "base image built before the deps lookup (when not published), the tool's figure (s)"),
    (
        "deps_lookup",
        "published deps images: keys from the lockfile (one Pants query) + pull, the tool's figure (s)",
    ),
    ("deps_build", "deps images built, one per set of distributions, and pushed, the tool's figure (s)"),
    (
        "free_disk",
        "pulled images and build stages deleted (--free-disk: after the deps lookup, after the deps "
        "builds), the tool's figure (s)",
    ),
    ("images", "images step, the tool's figure (s)"),
    ("pex", "  pex builds (s)"),
    ("base_build", "  base image docker build (s)"),
    ("pipeline_build", "  pipeline image docker build(s) (s)"),
    ("push", "  push, first to last byte at the registry (s)"),
    ("images_other", "  rest of the images step's Pants run (s)"),
    ("registration", "registration (s)"),
    ("other", "rest: validation, pools, summary, daemon stop (s)"),
)


def phases(
    run: TimedRun,
    workunits: Sequence[Workunit],
    registry_activity: Sequence[float],
    lockfile_done: float | None,
    base_name: str = "rio-pipelines-base",
    slot: float = 0.1,
) -> tuple[dict[str, float], list[str]]:
    """Seconds per phase of one deploy, and notes on what could not be split.

    Top-level phases (they add up to the wall): lockfile, pants_start and tool_start (the launcher's
    ``./pants package``, then its pex up to the plan; ``outer_start`` instead for ``./pants run``), plan,
    pull, base_lookup, base_first, deps_lookup, deps_build, free_disk, images, registration, other. Inside
    ``images``: IMAGE_PHASES, from the workunits and the registry traffic (the push is the only traffic while
    the images step runs), and lockfile_resolve inside ``lockfile``.
    """
    notes: list[str] = []
    result: dict[str, float] = {}
    deriving = run.first(DERIVING)
    lockfile_end = run.started
    if deriving:
        lockfile_end = lockfile_done if lockfile_done and lockfile_done > deriving[0].at else deriving[0].at
        result["lockfile"] = lockfile_end - deriving[0].at
        resolve = [(w.start, w.end) for w in workunits if LOCKFILE_RESOLVE.search(w.description)]
        if resolve:
            result["lockfile_resolve"] = covered(resolve, run.started, run.ended)
    else:
        result["lockfile"] = 0.0
    plan = _seconds(run, r"Plan: .*\(([\d.]+) s\)")
    if plan is None:
        notes.append("no 'Plan: ... (x s)' line: outer start and plan not separated")
        return result, notes
    tool_started = plan[0] - plan[1]
    packaged = run.first(LAUNCHER_PACKAGED)
    if packaged and lockfile_end <= packaged[0].at <= tool_started:
        # deploy_prefect_flows.sh: its `./pants package` (the daemon's start), then the tool's pex.
        result["pants_start"] = packaged[0].at - lockfile_end
        result["tool_start"] = tool_started - packaged[0].at
    else:
        result["outer_start"] = tool_started - lockfile_end
    result["plan"] = plan[1]
    pull = _seconds(run, r"Pulled \d+ image\(s\).*\(([\d.]+) s\)")
    if pull:
        result["pull"] = pull[1]
    base_lookup = _seconds(run, r"^Base image: .*\(([\d.]+) s\)\.$")
    if base_lookup:
        result["base_lookup"] = base_lookup[1]
    for key, pattern in (
        ("base_first", r"^Base image built: .*\(([\d.]+) s\)\.$"),
        ("deps_lookup", r"^Deps images: \d+ of \d+ published.*\(([\d.]+) s\)\.$"),
        ("deps_build", r"^Deps images: \d+ built and published.*\(([\d.]+) s\)\.$"),
    ):
        if found := _seconds(run, pattern):
            result[key] = found[1]
    freed = re.compile(r"^Disk freed for the image builds: .*\(([\d.]+) s\)\.$")
    if freeing := [float(match[1]) for line in run.lines if (match := freed.search(line.text))]:
        result["free_disk"] = sum(freeing)
    images_start = run.first(r"Building \d+ image\(s\) with Pants")
    images = _seconds(run, r"Images done in ([\d.]+) s")
    if images_start and images:
        result["images"] = images[1]
        low, high = images_start[0].at, images[0]
        pex = [(w.start, w.end) for w in workunits if PEX.search(w.description)]
        builds = [(w, m[1]) for w in workunits if (m := DOCKER_BUILD.search(w.description))]
        base = [(w.start, w.end) for w, name in builds if base_name in name]
        pipeline = [(w.start, w.end) for w, name in builds if base_name not in name]
        active = [at for at in registry_activity if low <= at <= high]
        pushed = [(active[0], active[-1] + slot)] if active else []
        result["pex"] = covered(pex, low, high)
        result["base_build"] = covered(base, low, high)
        result["pipeline_build"] = covered(pipeline, low, high)
        result["push"] = covered(pushed, low, high)
        result["images_other"] = max(images[1] - covered([*pex, *base, *pipeline, *pushed], low, high), 0.0)
        if not pex and not builds:
            notes.append("no pex/docker workunits in .pants.d/run-tracker: the images step is not split")
        if (
            sum(result[key] for key in IMAGE_PHASES[:-1])
            > covered([*pex, *base, *pipeline, *pushed], low, high) + 1
        ):
            notes.append("pex builds overlapped the docker builds: each sub-phase counts its own time")
    registered = _seconds(run, r"Registered \d+ deployment\(s\) in ([\d.]+) s")
    if registered:
        result["registration"] = registered[1]
    top = (
        "lockfile",
        "pants_start",
        "tool_start",
        "outer_start",
        "plan",
        "pull",
        "base_lookup",
        "base_first",
        "deps_lookup",
        "deps_build",
        "free_disk",
        "images",
        "registration",
    )
    result["other"] = run.wall - sum(result.get(key, 0.0) for key in top)
    return result, notes
