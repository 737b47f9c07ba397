"""Test support: statements run against a test database, outside the code under test."""

from __future__ import annotations

import sqlalchemy as sa


def execute(url: str, sql: str) -> None:
    """Runs one statement on the database at ``url`` and commits it."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(sql))
    finally:
        engine.dispose()
