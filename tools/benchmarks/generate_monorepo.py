"""A throwaway git copy of this repository with N generated pipelines, for benchmarks (docs/benchmarks.md).

    ./pants run tools/benchmarks/generate_monorepo.py -- --size 200 --dest /tmp/bench-200

The copy holds what a commit of the working tree would hold (repo_testing.workspace.copy_repo), plus
`pipelines/rj_<secretaria>__bench_NNN/` rendered from templates/ with cookiecutter's API. Each generated
pipeline imports a realistic mix of the shared library: ~60 % are dump-style (their tasks.py reads a
database through `pipelines.common.db` and does not import `pipelines.common.http`), ~40 % API-style (the
template as is: `pipelines.common.http`); one in 5 also uses `tenacity` (a pin only its users see).
Everything is committed in the copy; the working tree is never touched.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from repo_testing.workspace import REPO_ROOT, commit_all, copy_repo

SECRETARIAS = ("smtr", "segovi", "cor", "sms", "sme", "smfp", "iplanrio", "seop", "smac", "cet")
HTTP_IMPORT = "from pipelines.common.http import SourceError\n"
# Dump-style pipelines: the source is a database table, read through the shared db module.
DB_IMPORT = '''from pipelines.common.db import create_engine, safe_url


class SourceError(RuntimeError):
    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"{safe_url(url)}: {problem}")
        self.url = url
        self.problem = problem


def fetch_json(url: str, *, timeout_seconds: float, attempts: int, backoff_seconds: float) -> Any:
    """The source table's rows as dicts (dump-style: a database, not an API)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.exec_driver_sql("SELECT * FROM registros")]

'''
TENACITY_USE = """
import tenacity  # noqa: E402

RETRY_POLICY = tenacity.stop_after_attempt(3)
"""


@dataclass(frozen=True)
class GeneratedPipeline:
    dir_name: str
    style: str  # "dump" (imports pipelines.common.db) or "api" (imports pipelines.common.http)
    uses_tenacity: bool


def pipeline_plan(size: int) -> list[tuple[str, str, str, bool]]:
    """(secretaria, pipeline, style, uses_tenacity) for each of `size` pipelines, deterministic."""
    plan = []
    for number in range(1, size + 1):
        # 3 of every 5 are dump-style (60 %), interleaved so that small sizes get both styles.
        style = "api" if number % 5 in (2, 4) else "dump"
        plan.append((SECRETARIAS[number % len(SECRETARIAS)], f"bench_{number:03d}", style, number % 5 == 3))
    return plan


def render(repo: Path, secretaria: str, pipeline: str, style: str, uses_tenacity: bool) -> GeneratedPipeline:
    # Imported here: the import sorter disagrees on whether `tests` is first-party when sandboxed alone.
    from cookiecutter.main import cookiecutter

    created = Path(
        cookiecutter(
            str(REPO_ROOT / "templates"),
            no_input=True,
            extra_context={
                "secretaria": secretaria,
                "pipeline": pipeline,
                "description": f"Pipeline sintética {pipeline} ({style}) para benchmarks.",
                "schedule": "0 3 * * *",
            },
            output_dir=str(repo / "pipelines"),
        )
    )
    tasks = created / "tasks.py"
    text = tasks.read_text()
    if style == "dump":
        if HTTP_IMPORT not in text:
            raise SystemExit(f"template's tasks.py no longer imports http as expected: {tasks}")
        text = text.replace(HTTP_IMPORT, DB_IMPORT)
        # The template's test expects the SourceError the tasks raise: here the one tasks.py defines.
        flow_test = created / "flow_test.py"
        test_text = flow_test.read_text()
        if HTTP_IMPORT not in test_text:
            raise SystemExit(f"template's flow_test.py no longer imports http as expected: {flow_test}")
        # Into the test's import of the pipeline's tasks, where the import sorter puts it.
        tasks_import = f"from pipelines.{created.name}.tasks import (\n    RAW_TABLE_DIR,\n"
        if tasks_import not in test_text:
            raise SystemExit(
                f"template's flow_test.py no longer imports RAW_TABLE_DIR as expected: {flow_test}"
            )
        test_text = test_text.replace(HTTP_IMPORT, "")
        flow_test.write_text(test_text.replace(tasks_import, f"{tasks_import}    SourceError,\n"))
    if uses_tenacity:
        text += TENACITY_USE
    tasks.write_text(text)
    return GeneratedPipeline(created.name, style, uses_tenacity)


def generate(dest: Path, size: int) -> list[GeneratedPipeline]:
    """Copies the repository to `dest` (replaced if present) and commits `size` generated pipelines."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    copy_repo(dest)
    logging.getLogger("cookiecutter").setLevel(logging.CRITICAL)
    generated = [render(dest, *entry) for entry in pipeline_plan(size)]
    commit_all(dest, f"{size} generated pipelines")
    return generated


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, required=True, help="number of generated pipelines")
    parser.add_argument("--dest", type=Path, required=True, help="directory of the copy (outside the repo)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    dest: Path = args.dest.resolve()
    if dest == REPO_ROOT or REPO_ROOT in dest.parents:
        parser.error("--dest must be outside the working tree")
    generated = generate(dest, args.size)
    dumps = sum(1 for item in generated if item.style == "dump")
    print(f"{dest}: {len(generated)} generated pipelines ({dumps} dump-style) + the repository's own")
    return 0


if __name__ == "__main__":
    sys.exit(main())
