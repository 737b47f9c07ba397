from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.common.dump import DumpParameters, dump_to_lake
from pipelines.common.dump_sample import SAMPLE_ROWS, sample_database
from pipelines.common.lake import Lake
from pipelines.common.source import LOCAL_RUN_ENV


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "src" / "sample_pkg"
    (root / "queries").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    return root


def stub(package: Path, table: str) -> None:
    (package / "queries" / f"{table}.sql").write_text(f"SELECT id, nome, valor, atualizado_em FROM {table}\n")


def tables(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            names = sa.inspect(connection).get_table_names()
            return {
                name: connection.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
                for name in names
            }
    finally:
        engine.dispose()


def test_the_sample_has_the_tables_of_the_queries_and_follows_them(package: Path, tmp_path: Path) -> None:
    stub(package, "chamado")
    stub(package, "pessoa")
    path = tmp_path / "sample.sqlite"
    url = sample_database("sample_pkg", path)
    assert tables(url) == {"chamado": SAMPLE_ROWS, "pessoa": SAMPLE_ROWS}
    assert sample_database("sample_pkg", path) == url  # reused as it is

    stub(package, "origem")
    assert tables(sample_database("sample_pkg", path)) == dict.fromkeys(
        ("chamado", "origem", "pessoa"), SAMPLE_ROWS
    )
    assert not list(tmp_path.glob(".sample.sqlite.*"))  # built aside, then renamed


def test_the_stub_queries_dump_the_sample_incrementally(
    package: Path, tmp_path: Path, lake_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCAL_RUN_ENV, "1")  # the sample stands in only for an explicitly local run
    stub(package, "chamado")
    parameters = DumpParameters(
        table_id="chamado",
        dataset_id="brutos_teste",
        dump_mode="incremental",
        partition_column="atualizado_em",
        lake_uri=lake_uri,
    )
    sample = lambda: sample_database("sample_pkg", tmp_path / "s.sqlite")  # noqa: E731
    first = dump_to_lake(parameters, package="sample_pkg", sample_database=sample)
    assert (first.rows_written, len(first.days_written)) == (SAMPLE_ROWS, 6)
    again = dump_to_lake(parameters, package="sample_pkg", sample_database=sample)
    assert again.since == first.days_written[-1] and again.rows_written == SAMPLE_ROWS // 6
    assert Lake.from_uri(lake_uri).read_table("brutos_teste/chamado").num_rows == SAMPLE_ROWS
