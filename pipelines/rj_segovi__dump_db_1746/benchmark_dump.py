"""Benchmark of the 1746 dump against PostgreSQL: throughput, and peak memory bounded by the batch size.

Not a test. Generates ``chamado`` tables of two sizes in PostgreSQL (one schema each, kept for reruns), then
dumps each with two batch sizes, every run in a fresh process, and prints rows/s and peak RSS side by side.
``--drop`` removes the generated tables at the end.

    export PIPELINES_TEST_POSTGRES_URL="$(bash build-support/ci/start-postgres.sh)"
    PYTHONPATH=. python pipelines/rj_segovi__dump_db_1746/benchmark_dump.py [--rows 1000000]
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
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from pipelines.rj_segovi__dump_db_1746.sample_db import create_chamado_table
from pipelines.rj_segovi__dump_db_1746.tasks import dump_table

GENERATE_SQL = """
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


@dataclass(frozen=True)
class Measurement:
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


def schema_url(base_url: str, schema: str) -> str:
    url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def ensure_table(base_url: str, rows: int) -> str:
    """A schema holding a ``chamado`` of exactly ``rows`` generated rows (reused when already there)."""
    schema = _schema(rows)
    admin = sa.create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    url = schema_url(base_url, schema)
    engine = sa.create_engine(url)
    try:
        create_chamado_table(engine)
        with engine.begin() as connection:
            existing: int = connection.execute(sa.text("SELECT count(*) FROM chamado")).scalar_one()
            if existing != rows:
                print(f"generating {rows:,} rows in {schema}.chamado ...", flush=True)
                started = time.perf_counter()
                connection.execute(sa.text("TRUNCATE chamado"))
                connection.execute(sa.text(GENERATE_SQL), {"rows": rows})
                print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE chamado"))
    finally:
        engine.dispose()
    return url


def drop_tables(base_url: str, sizes: list[int]) -> None:
    engine = sa.create_engine(base_url)
    with engine.begin() as connection:
        for rows in sizes:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{_schema(rows)}" CASCADE'))
    engine.dispose()


def _schema(rows: int) -> str:
    return f"bench_chamado_{rows}"


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(url: str, rows: int, batch_size: int) -> dict[str, Any]:
    """One dump of the whole table into a temporary local lake (runs in a fresh process)."""
    baseline = _max_rss_mb()
    with tempfile.TemporaryDirectory(prefix="bench-lake-") as lake_uri:
        started = time.perf_counter()
        result = dump_table.fn(
            url,
            "chamado",
            lake_uri=lake_uri,
            since=None,
            batch_size=batch_size,
            dataset_id="brutos_1746",
            secret_path=None,
        )
        seconds = time.perf_counter() - started
    measurement = Measurement(
        rows=rows,
        batch_size=batch_size,
        seconds=seconds,
        rows_written=result.rows_written,
        files_written=result.files_written,
        baseline_rss_mb=baseline,
        peak_rss_mb=_max_rss_mb(),
    )
    return asdict(measurement)


def run_isolated(url: str, rows: int, batch_size: int) -> Measurement:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return Measurement(**pool.submit(measure, url, rows, batch_size).result())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("PIPELINES_TEST_POSTGRES_URL"))
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="the larger table (the other is a quarter)"
    )
    parser.add_argument("--batch-sizes", default="10000,50000")
    parser.add_argument("--json", action="store_true", help="also print the measurements as JSON")
    parser.add_argument("--drop", action="store_true", help="drop the generated tables at the end")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("no PostgreSQL URL: pass --url or export PIPELINES_TEST_POSTGRES_URL")
    sizes = [args.rows // 4, args.rows]
    batch_sizes = [int(size) for size in args.batch_sizes.split(",")]
    urls = {rows: ensure_table(args.url, rows) for rows in sizes}

    results = [run_isolated(urls[rows], rows, batch) for rows in sizes for batch in batch_sizes]
    print(f"\n{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}; each run in a fresh process\n")
    print(
        f"{'rows':>10} {'batch':>7} {'seconds':>8} {'rows/s':>9} {'files':>6} {'base RSS':>9} {'peak RSS':>9}"
    )
    for item in results:
        print(
            f"{item.rows:>10,} {item.batch_size:>7,} {item.seconds:>8.2f} {item.rows_per_second:>9,.0f} "
            f"{item.files_written:>6} {item.baseline_rss_mb:>7.0f}MB {item.peak_rss_mb:>7.0f}MB"
        )
    if args.json:
        print(json.dumps([asdict(item) | {"rows_per_second": item.rows_per_second} for item in results]))
    if args.drop:
        drop_tables(args.url, sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
