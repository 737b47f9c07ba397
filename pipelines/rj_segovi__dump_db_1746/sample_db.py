"""The 1746 call centre's ``chamado`` table: its shape, generated sample rows, and a local sample database.

Used by the flow when it runs without a ``database_url``, by the tests (SQLite and PostgreSQL) and by the
benchmark.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa

from pipelines.common.settings import local_data_dir

SAMPLE_START: Final = datetime(2024, 1, 1)
SAMPLE_DAYS: Final = 90
SAMPLE_ROWS: Final = 5_000
SAMPLE_BROKEN_DATES: Final = ("2024-02-30 10:00:00", "not a date")

metadata = sa.MetaData()
chamado = sa.Table(
    "chamado",
    metadata,
    sa.Column("id_chamado", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("data_inicio", sa.DateTime, index=True),
    sa.Column("data_fim", sa.DateTime),
    sa.Column("bairro", sa.String(80)),
    sa.Column("categoria", sa.String(40)),
    sa.Column("tipo", sa.String(80)),
    sa.Column("subtipo", sa.String(120)),
    sa.Column("status", sa.String(40)),
    sa.Column("canal", sa.String(40)),
    sa.Column("latitude", sa.Float),
    sa.Column("longitude", sa.Float),
)

_BAIRROS = (
    "Centro",
    "Copacabana",
    "Tijuca",
    "Campo Grande",
    "Bangu",
    "Barra da Tijuca",
    "Madureira",
    "Jacarepaguá",
    "Santa Cruz",
    "Méier",
    "Botafogo",
    "Realengo",
    "Penha",
    "Ilha do Governador",
)
_SERVICOS = (
    ("Serviço", "Iluminação pública", "Reparo de lâmpada apagada"),
    ("Serviço", "Conservação de vias", "Reparo de buraco na pista"),
    ("Serviço", "Limpeza urbana", "Remoção de entulho"),
    ("Serviço", "Manejo arbóreo", "Poda de árvore em logradouro"),
    ("Serviço", "Fiscalização", "Estacionamento irregular"),
    ("Informação", "Atendimento", "Informação sobre serviços"),
    ("Reclamação", "Transporte", "Ônibus não passou no ponto"),
)
_STATUS = ("Aberto", "Em andamento", "Fechado com solução", "Fechado sem solução")
_CANAIS = ("Telefone", "Aplicativo", "Portal Web")


def generate_chamados(
    count: int,
    *,
    start: datetime = SAMPLE_START,
    days: int = SAMPLE_DAYS,
    first_id: int = 1,
    seed: int = 1746,
) -> list[dict[str, Any]]:
    """``count`` plausible calls spread over ``days`` days from ``start``, deterministic for a seed."""
    rng = random.Random(seed)
    rows = []
    for offset in range(count):
        started = start + timedelta(seconds=rng.randrange(days * 86_400))
        status = rng.choice(_STATUS)
        categoria, tipo, subtipo = rng.choice(_SERVICOS)
        rows.append(
            {
                "id_chamado": first_id + offset,
                "data_inicio": started,
                "data_fim": (
                    None if status in _STATUS[:2] else started + timedelta(hours=rng.randrange(1, 400))
                ),
                "bairro": rng.choice(_BAIRROS),
                "categoria": categoria,
                "tipo": tipo,
                "subtipo": subtipo,
                "status": status,
                "canal": rng.choice(_CANAIS),
                "latitude": round(rng.uniform(-23.05, -22.80), 6),
                "longitude": round(rng.uniform(-43.70, -43.15), 6),
            }
        )
    return rows


def create_chamado_table(engine: sa.Engine) -> None:
    metadata.create_all(engine, tables=[chamado])


def insert_chamados(
    engine: sa.Engine, rows: Sequence[Mapping[str, Any]], *, chunk_size: int = 10_000
) -> None:
    with engine.begin() as connection:
        for start in range(0, len(rows), chunk_size):
            connection.execute(chamado.insert(), list(rows[start : start + chunk_size]))


def insert_raw_start_dates(engine: sa.Engine, values: Iterable[tuple[int, str]]) -> None:
    """Rows whose ``data_inicio`` is raw text, maybe not a date (SQLite allows it, as legacy sources do)."""
    statement = sa.text(
        "INSERT INTO chamado (id_chamado, data_inicio, bairro, categoria, status) "
        "VALUES (:id_chamado, :data_inicio, 'Centro', 'Serviço', 'Aberto')"
    )
    with engine.begin() as connection:
        connection.execute(statement, [{"id_chamado": id_, "data_inicio": text} for id_, text in values])


def default_sample_path() -> Path:
    return local_data_dir() / "samples" / "db_1746.sqlite"


def ensure_sample_database(path: Path | None = None, rows: int = SAMPLE_ROWS) -> str:
    """The SQLAlchemy URL of a local SQLite sample of ``chamado``, generating it on first use.

    Besides ``rows`` valid calls it holds a few rows whose start date is not a valid date. The file is built
    under a temporary name and renamed, so an interrupted generation never leaves a partial database.
    """
    path = path or default_sample_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.unlink(missing_ok=True)
        engine = sa.create_engine(f"sqlite:///{partial}")
        try:
            create_chamado_table(engine)
            insert_chamados(engine, generate_chamados(rows))
            insert_raw_start_dates(
                engine, [(rows + 1 + index, text) for index, text in enumerate(SAMPLE_BROKEN_DATES)]
            )
        finally:
            engine.dispose()
        os.replace(partial, path)
    return f"sqlite:///{path}"
