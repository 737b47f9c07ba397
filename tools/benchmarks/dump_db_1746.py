"""Benchmark of the generic dump on PostgreSQL and MariaDB: throughput, and peak memory bounded by the batch.

Not a test. Generates ``chamado`` tables of two sizes (one PostgreSQL schema / MariaDB database each, kept
for reruns), then dumps each with two batch sizes and two configurations, every run in a fresh process, and
prints rows/s and peak RSS side by side:

- ``1746``: the configuration of pipelines/rj_segovi__dump_db_1746 (its query with ``:since``, column
  types fixed by the pipeline);
- ``generic``: what a new dump pipeline gets with no configuration but the table (``source_table``,
  incremental by ``data_inicio``; the query is wrapped and ordered by the dump, types come from the driver).

    export PIPELINES_TEST_POSTGRES_URL="$(bash build-support/ci/start-postgres.sh)"
    export PIPELINES_TEST_MARIADB_URL="$(bash build-support/ci/start-mariadb.sh)"
    ./pants run tools/benchmarks/dump_db_1746.py -- [--rows 1000000]

``--drop`` removes the generated tables at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import Any

import sqlalchemy as sa

from pipelines.common.dump import DumpParameters, dump_to_lake
from pipelines.rj_segovi__dump_db_1746.sample_db import create_chamado_table
from pipelines.rj_segovi__dump_db_1746.tasks import PACKAGE, dump_parameters

POSTGRES_SQL = """
INSERT INTO chamado (id_chamado, data_inicio, data_fim, bairro, categoria, tipo, subtipo, status, canal,
                     latitude, longitude)
SELECT
    i,
    TIMESTAMP '2024-01-01' + (i - 1) * (INTERVAL '365 days' / CAST(:rows AS double precision)),
    CASE WHEN i % 4 = 0 THEN NULL
         ELSE TIMESTAMP '2024-01-01' + (i - 1) * (INTERVAL '365 days' / CAST(:rows AS double precision))
              + (i % 400) * INTERVAL '1 hour' END,
    (ARRAY['Centro', 'Copacabana', 'Tijuca', 'Campo Grande', 'Bangu', 'Barra da Tijuca', 'Madureira'])
        [1 + i % 7],
    (ARRAY['Serviço', 'Informação', 'Reclamação'])[1 + i % 3],
    (ARRAY['Iluminação pública', 'Conservação de vias', 'Limpeza urbana'])[1 + i % 3],
    (ARRAY['Reparo de lâmpada apagada', 'Reparo de buraco na pista', 'Remoção de entulho'])[1 + i % 3],
    (ARRAY['Aberto', 'Em andamento', 'Fechado com solução', 'Fechado sem solução'])[1 + i % 4],
    (ARRAY['Telefone', 'Aplicativo', 'Portal Web'])[1 + i % 3],
    -23.05 + (i % 1000) * 0.00025,
    -43.70 + (i % 997) * 0.00055
FROM generate_series(1, :rows) AS i
"""
# The same rows from MariaDB's sequence engine (seq_1_to_<n>).
MARIADB_SQL = """
INSERT INTO chamado (id_chamado, data_inicio, data_fim, bairro, categoria, tipo, subtipo, status, canal,
                     latitude, longitude)
SELECT
    seq,
    TIMESTAMP '2024-01-01 00:00:00' + INTERVAL FLOOR((seq - 1) * 31536000 / {rows}) SECOND,
    CASE WHEN seq % 4 = 0 THEN NULL
         ELSE TIMESTAMP '2024-01-01 00:00:00' + INTERVAL FLOOR((seq - 1) * 31536000 / {rows}) SECOND
              + INTERVAL (seq % 400) HOUR END,
    ELT(1 + seq % 7, 'Centro', 'Copacabana', 'Tijuca', 'Campo Grande', 'Bangu', 'Barra da Tijuca',
        'Madureira'),
    ELT(1 + seq % 3, 'Serviço', 'Informação', 'Reclamação'),
    ELT(1 + seq % 3, 'Iluminação pública', 'Conservação de vias', 'Limpeza urbana'),
    ELT(1 + seq % 3, 'Reparo de lâmpada apagada', 'Reparo de buraco na pista', 'Remoção de entulho'),
    ELT(1 + seq % 4, 'Aberto', 'Em andamento', 'Fechado com solução', 'Fechado sem solução'),
    ELT(1 + seq % 3, 'Telefone', 'Aplicativo', 'Portal Web'),
    -23.05 + (seq % 1000) * 0.00025,
    -43.70 + (seq % 997) * 0.00055
FROM seq_1_to_{rows}
"""
BACKENDS = {"postgresql": "PIPELINES_TEST_POSTGRES_URL", "mysql": "PIPELINES_TEST_MARIADB_URL"}


@dataclass(frozen=True)
class Measurement:
    backend: str
    config: str
    rows: int
    batch_size: int
    seconds: float
    rows_written: int
    files_written: int
    baseline_rss_mb: float
    peak_rss_mb: float

    @property
    def rows_per_second(self) -> float:
        return self.rows_written / self.seconds


def table_url(base_url: str, rows: int) -> str:
    """A URL whose unqualified ``chamado`` is the generated table of ``rows`` rows (created if missing)."""
    url = sa.make_url(base_url)
    name = f"bench_chamado_{rows}"
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        if url.get_backend_name() == "postgresql":
            connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))
            url = url.update_query_dict({"options": f"-csearch_path={name}"})
        else:
            name = f"{url.database}_{name}"  # the test user may create <database>_* databases
            connection.execute(sa.text(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4"))
            url = url.set(database=name)
    admin.dispose()
    rendered = url.render_as_string(hide_password=False)
    engine = sa.create_engine(rendered)
    try:
        create_chamado_table(engine)
        with engine.begin() as connection:
            existing: int = connection.execute(sa.text("SELECT count(*) FROM chamado")).scalar_one()
            if existing != rows:
                print(f"generating {rows:,} rows in {name}.chamado ...", flush=True)
                started = time.perf_counter()
                connection.execute(sa.text("DELETE FROM chamado"))
                if engine.dialect.name == "postgresql":
                    connection.execute(sa.text(POSTGRES_SQL), {"rows": rows})
                else:
                    connection.execute(sa.text(MARIADB_SQL.format(rows=int(rows))))
                print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(sa.text("VACUUM ANALYZE chamado"))
    finally:
        engine.dispose()
    return rendered


def drop_tables(base_url: str, sizes: list[int]) -> None:
    url = sa.make_url(base_url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for rows in sizes:
            if url.get_backend_name() == "postgresql":
                connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "bench_chamado_{rows}" CASCADE'))
            else:
                connection.execute(sa.text(f"DROP DATABASE IF EXISTS `{url.database}_bench_chamado_{rows}`"))
    engine.dispose()


def configuration(config: str, url: str, lake_uri: str, batch_size: int) -> DumpParameters:
    pipeline = dump_parameters("chamado", database_url=url, lake_uri=lake_uri, batch_size=batch_size)
    if config == "1746":
        return pipeline
    return replace(pipeline, source_table="chamado", column_types=None, id_column=None)


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(backend: str, config: str, url: str, rows: int, batch_size: int) -> dict[str, Any]:
    """One full dump of the table into a temporary local lake (runs in a fresh process)."""
    baseline = _max_rss_mb()
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as lake_uri:
        started = time.perf_counter()
        result = dump_to_lake(configuration(config, url, lake_uri, batch_size), package=PACKAGE)
        seconds = time.perf_counter() - started
    return asdict(
        Measurement(
            backend=backend,
            config=config,
            rows=rows,
            batch_size=batch_size,
            seconds=seconds,
            rows_written=result.rows_written,
            files_written=result.files_written,
            baseline_rss_mb=baseline,
            peak_rss_mb=_max_rss_mb(),
        )
    )


def run_isolated(*args: Any) -> Measurement:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return Measurement(**pool.submit(measure, *args).result())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="the larger table (the other is a quarter)"
    )
    parser.add_argument("--batch-sizes", default="10000,50000")
    parser.add_argument("--configs", default="1746,generic")
    parser.add_argument("--json", action="store_true", help="also print the measurements as JSON")
    parser.add_argument("--drop", action="store_true", help="drop the generated tables at the end")
    args = parser.parse_args(argv)
    urls = {backend: os.environ[env] for backend, env in BACKENDS.items() if os.environ.get(env)}
    if not urls:
        parser.error(f"no database: export {' and/or '.join(BACKENDS.values())}")
    sizes = [args.rows // 4, args.rows]
    batch_sizes = [int(size) for size in args.batch_sizes.split(",")]
    results = []
    for backend, base_url in urls.items():
        tables = {rows: table_url(base_url, rows) for rows in sizes}
        results += [
            run_isolated(backend, config, tables[rows], rows, batch)
            for rows in sizes
            for config in args.configs.split(",")
            for batch in batch_sizes
        ]
    print(f"\n{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}; each run in a fresh process\n")
    print(
        f"{'backend':>10} {'config':>8} {'rows':>10} {'batch':>7} {'seconds':>8} {'rows/s':>9} {'files':>6} "
        f"{'base RSS':>9} {'peak RSS':>9}"
    )
    for item in results:
        print(
            f"{item.backend:>10} {item.config:>8} {item.rows:>10,} {item.batch_size:>7,} "
            f"{item.seconds:>8.2f} {item.rows_per_second:>9,.0f} {item.files_written:>6} "
            f"{item.baseline_rss_mb:>7.0f}MB {item.peak_rss_mb:>7.0f}MB"
        )
    if args.json:
        print(json.dumps([asdict(item) | {"rows_per_second": item.rows_per_second} for item in results]))
    if args.drop:
        for base_url in urls.values():
            drop_tables(base_url, sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
