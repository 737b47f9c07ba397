"""Create a pipeline from templates/ with the repository's pinned cookiecutter (no uv needed).

    ./pants run tools/new_pipeline.py                  # asks the questions
    ./pants run tools/new_pipeline.py -- --no-input secretaria=smtr pipeline=gps_sppo \
        description="Captura do GPS dos ônibus" work_pool=default-pool schedule="* * * * *"
    ./pants run tools/new_pipeline.py -- --no-input kind=dump_db secretaria=segovi \
        pipeline=dump_db_sigma tables=chamado,pessoa,origem work_pool=datario-pool

Same template, same checks (templates/hooks/pre_gen_project.py) and same result as
`uvx cookiecutter templates --output-dir=pipelines` run from the repository root.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from cookiecutter.exceptions import FailedHookException, OutputDirExistsException
from cookiecutter.main import cookiecutter

from pipeline_platform.repo_root import RepoRootError, find_repo_root


def repo_root() -> Path:
    """The repository (./pants exports its root; otherwise the nearest parent holding pants.toml)."""
    try:
        root = find_repo_root()
    except RepoRootError as error:
        raise SystemExit(
            "Repositório não encontrado: rode a partir da raiz (onde está o pants.toml)."
        ) from error
    if not (root / "templates").is_dir():
        raise SystemExit(f"{root} não tem templates/: rode a partir da raiz do repositório.")
    return root


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="./pants run tools/new_pipeline.py --",
        description="Cria pipelines/rj_<secretaria>__<pipeline>/ a partir de templates/.",
    )
    parser.add_argument(
        "--no-input", action="store_true", help="não pergunta: usa os valores dados e os padrões"
    )
    parser.add_argument(
        "answers",
        nargs="*",
        metavar="chave=valor",
        help="respostas (kind, secretaria, pipeline, description, tables, work_pool, schedule)",
    )
    args = parser.parse_args(argv)
    for answer in args.answers:
        if "=" not in answer:
            parser.error(f"{answer!r}: use chave=valor, ex.: secretaria=smtr")
    return args


def create(root: Path, answers: dict[str, str], *, no_input: bool) -> Path:
    """Renders the template into `root`/pipelines and returns the new pipeline's directory."""
    created: str = cookiecutter(
        str(root / "templates"),
        no_input=no_input,
        extra_context=answers,
        output_dir=str(root / "pipelines"),
    )
    return Path(created)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    answers = dict(answer.split("=", 1) for answer in args.answers)
    root = repo_root()
    # The hook already explains what is wrong; cookiecutter's traceback would only bury it.
    logging.getLogger("cookiecutter").setLevel(logging.CRITICAL)
    try:
        pipeline_dir = create(root, answers, no_input=args.no_input)
    except FailedHookException:
        return 1
    except OutputDirExistsException as exc:
        print(f"\nNova pipeline NÃO criada: {exc}", file=sys.stderr)
        return 1
    name = pipeline_dir.name
    print(
        f"\nCriada pipelines/{name}/. Próximos passos (docs/nova-pipeline.md):\n"
        f"  ./pants test pipelines/{name}/flow_test.py\n"
        f"  ./pants lint check pipelines/{name}::\n"
        f"  ./pants package pipelines/{name}:image\n"
        f"  ./pants run tools/deploy_prefect_flows.py -- --environment staging --pipeline {name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
