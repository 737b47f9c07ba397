"""The command line: ``./pants run tools/import_pipeline.py -- [--pool-map OLD=NEW ...]
[--no-refresh] [--force] DIR...`` (docs/importar.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.markup import escape

from pipeline_import.importer import Options, import_pipeline
from pipeline_import.report import report
from pipeline_import.requirements import Requirements, write_and_refresh
from pipeline_import.shared_code import share_cross_pipeline_modules
from pipeline_platform.repo_root import RepoRootError, find_repo_root
from pipelines.common.naming import WORK_POOLS

DEFAULT_POOL_MAP: Final = {"k3s-pool": "default-pool"}


def repo_root() -> Path:
    """The repository ./pants runs in (it exports its root), else the current directory."""
    try:
        root = find_repo_root()
    except RepoRootError as error:
        raise SystemExit(f"{error}: rode ./pants run tools/import_pipeline.py") from error
    if not (root / "templates").is_dir() or not (root / "3rdparty/python/requirements.txt").is_file():
        raise SystemExit(f"{root} não é a raiz do repositório: rode ./pants run tools/import_pipeline.py")
    return root


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="./pants run tools/import_pipeline.py --",
        description="Importa pipelines do layout antigo para pipelines/<nome>/ (docs/importar.md).",
    )
    parser.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="diretório de uma pipeline antiga")
    parser.add_argument(
        "--pool-map",
        action="append",
        default=[],
        metavar="ANTIGO=NOVO",
        help=f"work pool antigo -> um de {', '.join(WORK_POOLS)} (padrão: k3s-pool=default-pool)",
    )
    parser.add_argument("--no-refresh", action="store_true", help="não atualiza as versões fixadas (pins)")
    parser.add_argument("--force", action="store_true", help="substitui pipelines que já existem")
    args = parser.parse_args(argv)
    pool_map = dict(DEFAULT_POOL_MAP)
    for item in args.pool_map:
        old, separator, new = item.partition("=")
        if not separator or not old or new not in WORK_POOLS:
            parser.error(f"--pool-map {item!r}: use ANTIGO=NOVO, com NOVO um de {', '.join(WORK_POOLS)}")
        pool_map[old] = new
    args.pool_map = pool_map
    return args


def main(
    argv: Sequence[str] | None = None, *, root: Path | None = None, console: Console | None = None
) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    root = root or repo_root()
    console = console or Console()
    batch = frozenset(directory.resolve().name.strip().lower().replace("-", "_") for directory in args.dirs)
    options = Options(root=root, pool_map=args.pool_map, force=args.force, batch=batch)
    requirements = Requirements.read(root)
    results = [import_pipeline(directory.resolve(), options, requirements) for directory in args.dirs]
    shared = share_cross_pipeline_modules(root)
    refresh_error = None
    if requirements.added:
        if args.no_refresh:
            requirements.write()
            console.print(
                "[yellow]Requisitos acrescentados sem atualizar os pins (--no-refresh): rode "
                "`python3 tools/refresh_pins.py` antes de qualquer ./pants.[/]"
            )
        else:
            console.print(f"Atualizando os pins ({len(requirements.added)} requisito(s) novo(s))...")
            refresh_error = write_and_refresh(requirements)
    report(console, results, shared)
    if refresh_error:
        console.print(
            "[bold red]✕ refresh_pins.py falhou[/] (um requisito importado não resolve?):\n"
            + escape(refresh_error)
        )
    return 1 if refresh_error or any(result.error for result in results) else 0
