"""Finishes a new pipeline after cookiecutter wrote it: the files of its kind, and the query stubs.

Runs (rendered by Jinja, like pre_gen_project.py) inside the new pipeline's directory. The template holds the
`api` kind's files at the top and the `dump_db` kind's under `_dump_db/`: for `dump_db` those replace the top
ones, `tasks.py` goes (the generic dump does the work) and each table named at the prompt gets its
`queries/<table>.sql` stub. The answers were checked by pre_gen_project.py.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

RENDERED_CONTEXT = r"""{{ cookiecutter | tojson }}"""
KIND_DIR = "_dump_db"
QUERY_STUB = """\
-- The rows of {table}: replace this SELECT with the query of the source table. No ORDER BY: the dump orders
-- the rows by the schedule's partition_column. Until a database is set in prefect.yaml, local runs read a
-- generated SQLite sample holding these columns.
SELECT id, nome, valor, atualizado_em FROM {table}
"""


def table_names(answer: str) -> list[str]:
    return [name.strip() for name in answer.split(",") if name.strip()]


def finish(pipeline_dir: Path, kind: str, tables: list[str]) -> None:
    kind_dir = pipeline_dir / KIND_DIR
    if kind == "dump_db":
        for source in sorted(kind_dir.iterdir()):
            source.replace(pipeline_dir / source.name)
        (pipeline_dir / "tasks.py").unlink()
        queries = pipeline_dir / "queries"
        queries.mkdir()
        for table in tables:
            (queries / f"{table}.sql").write_text(QUERY_STUB.format(table=table))
    shutil.rmtree(kind_dir)


def main() -> int:
    context = json.loads(RENDERED_CONTEXT)
    finish(Path.cwd(), str(context["kind"]), table_names(str(context["tables"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
