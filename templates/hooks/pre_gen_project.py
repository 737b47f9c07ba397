"""Checks the answers to `cookiecutter templates` before any file of the new pipeline is written.

Cookiecutter renders this file with Jinja and runs it with its own interpreter, inside the (just created,
still empty) pipeline directory; a non-zero exit makes it delete that directory and write nothing. It runs
standalone, so it cannot import the repository: WORD_PATTERN, PIPELINE_PATTERN, WORK_POOLS and the name
derivation are copies of pipelines/common/naming.py's rules, and tests/template_test.py asserts that both
agree.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

# The parts of rj_<secretaria>__<pipeline> (naming.py's _SECRETARIA and _PIPELINE): lowercase ASCII letters,
# digits and single underscores; the secretaria starts with a letter, the pipeline may start with a digit.
WORD_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
PIPELINE_PATTERN = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
WORK_POOLS = ("default-pool", "datario-pool")
# Kubernetes label values (Prefect's worker labels each job with its deployment's name) hold 63 characters.
MAX_DEPLOYMENT_NAME = 63
MAX_DESCRIPTION = 200

# Cookiecutter's answers, rendered in by Jinja when the hook runs (tojson escapes quotes, so the raw string
# literal cannot be closed early by an answer).
RENDERED_CONTEXT = r"""{{ cookiecutter | tojson }}"""

CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (name, lowest, highest, names for the values from `lowest` on)
CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minuto", 0, 59, ()),
    ("hora", 0, 23, ()),
    ("dia do mês", 1, 31, ()),
    ("mês", 1, 12, MONTHS),
    ("dia da semana", 0, 7, WEEKDAYS),
)
CRON_ITEM = re.compile(r"^(?P<range>\*|(?P<start>[a-z0-9]+)(?:-(?P<end>[a-z0-9]+))?)(?:/(?P<step>[0-9]+))?$")


def pipeline_dir_name(secretaria: str, pipeline: str) -> str:
    return f"rj_{secretaria}__{pipeline}"


def deployment_name(secretaria: str, pipeline: str, environment: str) -> str:
    return f"rj-{secretaria.replace('_', '-')}--{pipeline.replace('_', '-')}--{environment}"


def name_problem(label: str, value: str) -> str | None:
    """Why `value` cannot be the `label` part of a pipeline name, or None if it can."""
    digit_first = label == "pipeline"
    if (PIPELINE_PATTERN if digit_first else WORD_PATTERN).match(value):
        return None
    if not value:
        why = "está vazio"
    elif any(char.isspace() for char in value):
        why = "tem espaços"
    elif any(unicodedata.category(char) == "Mn" for char in unicodedata.normalize("NFD", value)):
        why = "tem acentos"
    elif value != value.lower():
        why = "tem letras maiúsculas"
    elif "-" in value:
        why = "tem hífen (use _)"
    elif "__" in value or value.startswith("_") or value.endswith("_"):
        why = "tem _ duplo, no início ou no fim"
    elif not value[0].isalpha() and not digit_first:
        why = "não começa com uma letra"
    else:
        why = "tem caracteres fora de a-z, 0-9 e _"
    start = "começando por letra ou dígito" if digit_first else "começando por letra"
    return f"{label} {value!r} {why}: use letras minúsculas sem acento, dígitos e _, {start}"


def _cron_value(token: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if token.isdigit():
        number = int(token)
        return number if low <= number <= high else None
    return names.index(token) + low if token in names else None


def cron_problem(expression: str) -> str | None:
    """Why `expression` is not a 5-field cron expression (standard syntax), or None if it is one.

    The lint check validates the prefect.yaml with Prefect's own parser; this only stops obvious typos
    before anything is written.
    """
    text = expression.strip().lower()
    if text in CRON_MACROS:
        return None
    fields = text.split()
    if len(fields) != len(CRON_FIELDS):
        return (
            f"agendamento {expression!r} não é um cron de 5 campos "
            "(minuto hora dia-do-mês mês dia-da-semana), ex.: '0 3 * * *' ou '*/15 * * * *'"
        )
    for field, (name, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        for item in field.split(","):
            match = CRON_ITEM.match(item)
            ok = match is not None
            if match is not None:
                if match["step"] is not None and int(match["step"]) == 0:
                    ok = False
                for token in (match["start"], match["end"]):
                    if token is not None and _cron_value(token, low, high, names) is None:
                        ok = False
            if not ok:
                return f"agendamento {expression!r}: {name} {item!r} inválido (valores de {low} a {high})"
    return None


KINDS = ("api", "dump_db")
# A dumped table names its query file, its schedule's slug and its lake directory.
TABLE_PATTERN = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


def kind_problems(answers: dict[str, str]) -> list[str]:
    """What is wrong with the kind and, for `dump_db`, with the tables named at the prompt."""
    kind = answers.get("kind", "api")
    if kind not in KINDS:
        return [f"tipo {kind!r} desconhecido: use {' ou '.join(KINDS)}"]
    if kind != "dump_db":
        return []
    tables = [name.strip() for name in answers.get("tables", "").split(",") if name.strip()]
    if not tables:
        return ["tabelas: nomeie ao menos uma tabela (separadas por vírgula, ex.: chamado,pessoa)"]
    found = [
        f"tabela {name!r}: use letras minúsculas sem acento, dígitos e _ (vira queries/{name}.sql)"
        for name in tables
        if not TABLE_PATTERN.match(name)
    ]
    repeated = sorted({name for name in tables if tables.count(name) > 1})
    if repeated:
        found.append(f"tabelas repetidas: {', '.join(repeated)}")
    return found


def problems(answers: dict[str, str], target_dir: Path) -> list[str]:
    """Everything wrong with the answers, for a pipeline to be written at `target_dir`."""
    found = [
        problem
        for problem in (
            name_problem("secretaria", answers["secretaria"]),
            name_problem("pipeline", answers["pipeline"]),
        )
        if problem is not None
    ]
    longest = deployment_name(answers["secretaria"], answers["pipeline"], "staging")
    if not found and len(longest) > MAX_DEPLOYMENT_NAME:
        found.append(
            f"nome longo demais: o deployment {longest!r} tem {len(longest)} caracteres, o máximo é "
            f"{MAX_DEPLOYMENT_NAME} (limite do Kubernetes): encurte a secretaria ou a pipeline"
        )
    description = answers["description"]
    if not description.strip():
        found.append("descrição vazia: escreva uma linha dizendo o que a pipeline faz")
    elif len(description) > MAX_DESCRIPTION or any(
        unicodedata.category(char).startswith("C") for char in description
    ):
        found.append(f"descrição: uma linha só, de até {MAX_DESCRIPTION} caracteres")
    elif '"' in description or "\\" in description:
        found.append('descrição: sem aspas duplas (") nem barra invertida (\\)')
    if answers["work_pool"] not in WORK_POOLS:
        found.append(f"work pool {answers['work_pool']!r} desconhecido: use {' ou '.join(WORK_POOLS)}")
    schedule = cron_problem(answers["schedule"])
    if schedule is not None:
        found.append(schedule)
    found.extend(kind_problems(answers))
    if target_dir.parent.name != "pipelines":
        found.append(
            f"a pipeline seria criada em {target_dir.parent}, fora de pipelines/: rode, da raiz do "
            "repositório, `uvx cookiecutter templates --output-dir=pipelines`"
        )
    if target_dir.exists() and any(target_dir.iterdir()):
        found.append(f"o diretório {target_dir} já existe: escolha outro nome ou apague-o antes")
    return found


def report(found: list[str]) -> str:
    lines = ["", "Nova pipeline NÃO criada (nenhum arquivo foi escrito):", *(f"  - {p}" for p in found), ""]
    return "\n".join(lines)


def main() -> int:
    context = json.loads(RENDERED_CONTEXT)
    answers = {
        key: str(context[key])
        for key in ("kind", "secretaria", "pipeline", "description", "tables", "work_pool", "schedule")
    }
    found = problems(answers, Path.cwd())
    if found:
        print(report(found), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
