"""What the importer adds to the baseline is what the repository's secret scan (lint) then accepts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline_conventions.secret_scan import scan
from pipeline_import.imported import Imported
from pipeline_import.secrets_scan import BASELINE, review_secrets
from pipeline_platform.repo_root import find_repo_root

# Written so that this file itself holds no line that detect-secrets flags.
KEYWORD = "pass" + "word"
TASKS = f'import os\n\nAPI_{KEYWORD.upper()} = "s3nh4-d0-s1st3m4-4nt1g0"\n'


def test_a_flagged_line_is_added_to_the_baseline_by_its_path_from_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy2(find_repo_root() / BASELINE, tmp_path / BASELINE)
    target = tmp_path / "pipelines" / "rj_x__y"
    target.mkdir(parents=True)
    (target / "tasks.py").write_text(TASKS)
    (target / "flow.py").write_text("print('ok')\n")
    monkeypatch.chdir(tmp_path)
    files = ["pipelines/rj_x__y/tasks.py", "pipelines/rj_x__y/flow.py"]
    assert [(problem.path, problem.line) for problem in scan(files, tmp_path / BASELINE)] == [
        ("pipelines/rj_x__y/tasks.py", 3)
    ]
    imported = Imported(source=tmp_path, name="rj_x__y", kind="code")

    review_secrets(tmp_path, target, imported)

    assert scan(files, tmp_path / BASELINE) == []
    entries = json.loads((tmp_path / BASELINE).read_text())["results"]["pipelines/rj_x__y/tasks.py"]
    assert [entry["filename"] for entry in entries] == ["pipelines/rj_x__y/tasks.py"]
    assert [(note.where, note.todo) for note in imported.notes] == [("pipelines/rj_x__y/tasks.py:3", True)]
