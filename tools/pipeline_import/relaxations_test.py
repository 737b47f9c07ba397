"""The ruff rules imported code still breaks are ignored for its directory, and ruff then passes on it, even
where the code's own ``# noqa`` comments become unused."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipeline_import.imported import Imported
from pipeline_import.relaxations import relax
from pipeline_import.sources import ruff_binary

PYPROJECT = """\
[tool.ruff]
line-length = 110

[tool.ruff.lint]
select = ["E", "F", "RUF"]
"""

IMPORTED = """\
def run() -> None:
    credentials = 1  # noqa
    result = 2
"""


def ruff(root: Path, target: Path) -> subprocess.CompletedProcess[str]:
    binary = ruff_binary()
    assert binary is not None
    return subprocess.run(
        [binary, "check", "--config", str(root / "pyproject.toml"), str(target)],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def test_ruff_passes_on_the_imported_code_after_relaxing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    target = tmp_path / "pipelines" / "rj_x__y"
    target.mkdir(parents=True)
    (target / "flow.py").write_text(IMPORTED)
    assert "F841" in ruff(tmp_path, target).stdout
    imported = Imported(source=target, name="rj_x__y")
    relax(tmp_path, target, imported)
    assert (
        '"pipelines/rj_x__y/**" = ["F841", "RUF100"]  # imported: rj_x__y'
        in (tmp_path / "pyproject.toml").read_text()
    )
    checked = ruff(tmp_path, target)
    assert checked.returncode == 0, checked.stdout
    assert (target / "flow.py").read_text() == IMPORTED
