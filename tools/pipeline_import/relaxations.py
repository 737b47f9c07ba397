"""Lint and type-check relaxations for an imported pipeline's code, written to pyproject.toml and reported.

Imported code is never edited by hand: the ruff rules it still breaks after formatting are ignored for its
directory (``[tool.ruff.lint.per-file-ignores]``) and mypy does not hold it to this repository's strict typing
(``[[tool.mypy.overrides]]``). Each pipeline's entries name it, so deleting them is how it is tightened later.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Final

from pipeline_import.imported import Imported
from pipeline_import.sources import ruff_binary

RUFF_IGNORES: Final = "[tool.ruff.lint.per-file-ignores]"


def relax(root: Path, target: Path, imported: Imported) -> None:
    label = f"pipelines/{target.name}"
    codes = _ruff_codes(root, target)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    marker = f"# imported: {target.name}"
    if marker in text:
        return
    if codes:
        # A noqa comment of the imported code that silenced one of these codes is now unused (RUF100): fine.
        codes = sorted({*codes, "RUF100"})
        line = f'"{label}/**" = [{", ".join(json.dumps(code) for code in codes)}]  {marker}\n'
        if RUFF_IGNORES in text:
            head, _, tail = text.partition(RUFF_IGNORES + "\n")
            text = head + RUFF_IGNORES + "\n" + line + tail
        else:
            text = text.rstrip("\n") + f"\n\n{RUFF_IGNORES}\n{line}"
        imported.changed("pyproject.toml", f"ruff: {', '.join(codes)} ignored in {label}/ (imported code)")
    text = text.rstrip("\n") + (
        f'\n\n[[tool.mypy.overrides]]  {marker}\nmodule = ["pipelines.{target.name}.*"]\n'
        "ignore_errors = true\nignore_missing_imports = true\n"
    )
    imported.changed("pyproject.toml", f"mypy: strict typing not required of {label}/ (imported code)")
    pyproject.write_text(text)


def _ruff_codes(root: Path, target: Path) -> list[str]:
    ruff = ruff_binary()
    if ruff is None:
        return []
    result = subprocess.run(
        [
            ruff,
            "check",
            "--exit-zero",
            "--output-format",
            "json",
            "--config",
            str(root / "pyproject.toml"),
            str(target),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        findings = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        return []
    return sorted({str(finding["code"]) for finding in findings if finding.get("code")})
