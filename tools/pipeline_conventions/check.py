"""The repository's conventions as a check: `./pants lint` runs it (pants-plugins/pipeline_lint).

    python -m pipeline_conventions.check pipelines DIR...            # layout and deployments of pipelines
    python -m pipeline_conventions.check secrets --baseline FILE FILE...

Prints one `path:line: reason` line per problem (`path: reason` without a line) and exits 1 if there is any.
Paths are relative to the working directory, which must be the repository root (entrypoints in prefect.yaml
are relative to it). Every pipeline is checked, whatever another one holds: a pipeline that cannot be checked
at all is reported as a problem of that pipeline, beside the others' problems.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline_conventions import secret_scan
from pipeline_conventions.jobs import check_jobs
from pipeline_conventions.layout import check_layout, is_pipeline_dir
from pipeline_conventions.problems import Problem, sorted_problems
from pipeline_platform.repo import DEPLOYMENTS_FILE
from pipeline_platform.spec import read_pipeline


def check_pipeline(directory: Path) -> list[Problem]:
    """Layout, then the prefect.yaml (deployment names, environments, pools, secrets, schedules, entrypoint,
    parameters, unknown keys) with the deploy tool's own validation, so lint and deploy agree; when it
    validates cleanly, the Kubernetes Job of each deployment (rendered offline, as the worker would submit
    it). The prefect.yaml is checked even when the directory's name is rejected (both report that name the
    same way: it is shown once)."""
    problems = check_layout(directory)
    if (directory / DEPLOYMENTS_FILE).is_file():  # else the layout reports it missing
        spec, found = read_pipeline(directory)
        problems.extend(found)
        if spec is not None:
            problems.extend(check_jobs(spec))
    return sorted_problems(problems)


def check_pipelines(directories: Iterable[Path]) -> list[Problem]:
    problems: list[Problem] = []
    for directory in sorted(set(directories)):
        if not is_pipeline_dir(directory):
            continue
        try:
            problems.extend(check_pipeline(directory))
        except Exception as error:  # one pipeline must not hide the others' results
            problems.append(
                Problem(
                    f"{directory}/",
                    f"this pipeline could not be checked ({type(error).__name__}: {error}); the other "
                    "pipelines were. This is a bug of the conventions check: please report it",
                )
            )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline_conventions.check")
    commands = parser.add_subparsers(dest="command", required=True)
    pipelines = commands.add_parser("pipelines", help="check pipeline directories")
    pipelines.add_argument("directories", nargs="*", type=Path)
    secrets = commands.add_parser("secrets", help="scan files for secrets not in the baseline")
    secrets.add_argument("--baseline", type=Path, required=True)
    secrets.add_argument("files", nargs="*")
    args = parser.parse_args(argv)

    if args.command == "pipelines":
        problems = check_pipelines(args.directories)
        checked = f"{len(args.directories)} director(y/ies)"
    else:
        problems = secret_scan.scan(args.files, args.baseline)
        checked = f"{len(args.files)} file(s)"
    # A file name that is not UTF-8 (surrogate escapes) must not stop the report.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s) in {checked}.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
