"""Layout of pipelines/: every directory in it is a pipeline named rj_<secretaria>__<pipeline>, except the
shared libraries, and every pipeline has the files the build and the deploy tool rely on."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from pipeline_conventions.problems import Problem
from pipelines.common.naming import NamingError, PipelineName

# Directories of pipelines/ that hold shared code, not a pipeline (and Python's caches, never committed).
SHARED_DIRS: Final = frozenset({"common", "__pycache__"})
REQUIRED_FILES: Final = ("BUILD", "Dockerfile", "flow.py", "prefect.yaml")


def is_pipeline_dir(directory: Path) -> bool:
    return directory.name not in SHARED_DIRS


def check_layout(pipeline_dir: Path) -> list[Problem]:
    """The directory's name and the files it must hold."""
    problems: list[Problem] = []
    try:
        PipelineName.from_dir(pipeline_dir.name)
    except NamingError as exc:
        problems.append(Problem(f"{pipeline_dir}/", str(exc)))
    for name in REQUIRED_FILES:
        if not (pipeline_dir / name).is_file():
            problems.append(
                Problem(
                    f"{pipeline_dir}/{name}",
                    f"missing: every pipeline has {', '.join(REQUIRED_FILES)} (create it from templates/)",
                )
            )
    return problems
