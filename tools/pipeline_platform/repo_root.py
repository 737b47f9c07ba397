"""Where the repository is: the one answer for tools, tests and benchmarks (standard library only, so that
tools/refresh_pins.py can use it before Pants can run)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT_ENV = "PIPELINES_REPO_ROOT"
MARKER = "pants.toml"


class RepoRootError(RuntimeError):
    """No repository root to be found."""


def find_repo_root(start: Path | None = None) -> Path:
    """``$PIPELINES_REPO_ROOT`` (exported by ./pants to everything it runs, tests included), else the nearest
    directory holding pants.toml at or above ``start`` (default: the working directory)."""
    if exported := os.environ.get(REPO_ROOT_ENV):
        return Path(exported).resolve()
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / MARKER).is_file():
            return directory
    raise RepoRootError(f"no {MARKER} in {here} or above: run from the repository, or set {REPO_ROOT_ENV}")
