"""Helpers for the 1746 dump's tests and benchmark: seeding source databases, reading the lake back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from pipelines.common.lake import Lake
from pipelines.rj_segovi__dump_db_1746.sample_db import (
    create_chamado_table,
    generate_chamados,
    insert_chamados,
)
from pipelines.rj_segovi__dump_db_1746.tasks import DEFAULT_DATASET_ID


def seed_chamados(url: str, count: int, start: datetime, days: int, first_id: int) -> None:
    """Create ``chamado`` if missing and add ``count`` generated calls over ``days`` days from ``start``."""
    engine = sa.create_engine(url)
    try:
        create_chamado_table(engine)
        insert_chamados(
            engine, generate_chamados(count, start=start, days=days, first_id=first_id, seed=first_id)
        )
    finally:
        engine.dispose()


def read_dump(lake_uri: str, table: str = "chamado") -> pa.Table:
    return Lake.from_uri(lake_uri).read_table(f"{DEFAULT_DATASET_ID}/{table}")


def lake_files(lake_uri: str) -> dict[str, bytes]:
    """Every file under a local lake (hidden ones included) with its bytes."""
    root = Path(lake_uri)
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
