"""A local SQLite database with sample rows for a new dump pipeline's tables (the template's query stubs).

A pipeline made from the template (kind ``dump_db``) runs before it is pointed at a real database: without
connection parameters, and with a local lake, the dump reads this sample, which has each table of the
pipeline's ``queries/`` with the columns the stubs select (``id``, ``nome``, ``valor``, ``atualizado_em``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from pipelines.common.db import query_names
from pipelines.common.settings import local_data_dir

SAMPLE_ROWS: Final = 120
SAMPLE_DAYS: Final = 6
SAMPLE_START: Final = datetime(2024, 1, 1)
_NAMES: Final = ("Centro", "Tijuca", "Bangu", "Méier", "Penha", "Botafogo")


def sample_database(package: str, path: Path | None = None) -> str:
    """The SQLAlchemy URL of the sample of the package's tables (one per ``queries/*.sql``), made once.

    Built under a temporary name and renamed, so an interrupted run never leaves a partial database.
    """
    tables = query_names(package)
    path = path or local_data_dir() / "samples" / f"{package.rpartition('.')[2]}.sqlite"
    if not path.exists() or _tables(path) != set(tables):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.unlink(missing_ok=True)
        _create(partial, tables)
        os.replace(partial, path)
    return f"sqlite:///{path}"


def sample_rows(count: int = SAMPLE_ROWS, days: int = SAMPLE_DAYS) -> list[dict[str, object]]:
    """``count`` rows spread evenly over ``days`` days from SAMPLE_START, in time order."""
    step = timedelta(days=days) / count
    return [
        {
            "id": index + 1,
            "nome": _NAMES[index % len(_NAMES)],
            "valor": round(index * 1.25, 2),
            "atualizado_em": (SAMPLE_START + step * index).isoformat(sep=" ", timespec="seconds"),
        }
        for index in range(count)
    ]


def _create(path: Path, tables: Sequence[str]) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            for table in tables:
                connection.execute(
                    sa.text(
                        f'CREATE TABLE "{table}" (id INTEGER PRIMARY KEY, nome TEXT, valor REAL, '
                        "atualizado_em TEXT)"
                    )
                )
                connection.execute(
                    sa.text(
                        f'INSERT INTO "{table}" (id, nome, valor, atualizado_em) '
                        "VALUES (:id, :nome, :valor, :atualizado_em)"
                    ),
                    sample_rows(),
                )
    finally:
        engine.dispose()


def _tables(path: Path) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
