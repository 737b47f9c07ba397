"""A module one imported pipeline takes from another moves to pipelines/common/shared, with what it needs."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline_import.shared_code import share_cross_pipeline_modules

TEMPLATE = "rj_crm__disparo_modelo"
USER = "rj_smas__disparo_lembrete"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def repository(tmp_path: Path) -> Path:
    pipelines = tmp_path / "pipelines"
    write(pipelines / TEMPLATE / "__init__.py", "")
    write(
        pipelines / TEMPLATE / "flow.py",
        f"from pipelines.{TEMPLATE}.utils.tasks import send\nfrom pipelines.{TEMPLATE} import constants\n",
    )
    write(pipelines / TEMPLATE / "constants.py", "SENDER = 'prefeitura'\n")
    write(pipelines / TEMPLATE / "queries.py", "QUERY = 'select 1'\n")
    write(pipelines / TEMPLATE / "utils" / "__init__.py", "")
    write(
        pipelines / TEMPLATE / "utils" / "tasks.py",
        f"from pipelines.{TEMPLATE}.constants import (\n    SENDER,\n)\n\n\ndef send() -> str:\n"
        "    return SENDER\n",
    )
    write(pipelines / USER / "__init__.py", "")
    write(
        pipelines / USER / "flow.py",
        f"from pipelines.common.x import y\nfrom pipelines.{TEMPLATE}.utils.tasks import send\n\nsend(y)\n",
    )
    write(
        tmp_path / "pyproject.toml",
        "[tool.black]\nline-length = 110\n\n[tool.ruff]\nline-length = 110\n\n[tool.ruff.lint]\n"
        'select = ["I"]\n\n[tool.ruff.lint.isort]\nknown-first-party = ["pipelines"]\n\n'
        "[tool.ruff.lint.per-file-ignores]\n"
        f'"pipelines/{TEMPLATE}/**" = ["E501", "RUF100"]  # imported: {TEMPLATE}\n\n'
        f'[[tool.mypy.overrides]]  # imported: {TEMPLATE}\nmodule = ["pipelines.{TEMPLATE}.*"]\n'
        "ignore_errors = true\n",
    )
    baseline = {"results": {f"pipelines/{TEMPLATE}/utils/tasks.py": [{"filename": "x", "line_number": 1}]}}
    write(tmp_path / ".secrets.baseline", json.dumps(baseline))
    return tmp_path


def test_a_module_another_pipeline_imports_moves_with_the_modules_it_imports(tmp_path: Path) -> None:
    root = repository(tmp_path)

    shared = share_cross_pipeline_modules(root)

    moved = root / "pipelines/common/shared" / TEMPLATE
    assert sorted(str(path.relative_to(moved)) for path in moved.rglob("*") if path.is_file()) == [
        "BUILD",
        "__init__.py",
        "constants.py",
        "utils/BUILD",
        "utils/__init__.py",
        "utils/tasks.py",
    ]
    assert (root / "pipelines/common/shared/__init__.py").is_file()
    assert not (root / "pipelines" / TEMPLATE / "utils").exists()
    assert not (root / "pipelines" / TEMPLATE / "constants.py").exists()
    assert (root / "pipelines" / TEMPLATE / "queries.py").exists()  # nobody else imports it
    new = f"pipelines.common.shared.{TEMPLATE}"
    # Rewritten imports sort elsewhere now: formatted as ruff's isort wants.
    assert (
        (root / "pipelines" / USER / "flow.py")
        .read_text()
        .startswith(f"from {new}.utils.tasks import send\nfrom pipelines.common.x import y\n")
    )
    assert (root / "pipelines" / TEMPLATE / "flow.py").read_text() == (
        f"from {new} import constants\nfrom {new}.utils.tasks import send\n"
    )
    assert (moved / "utils/tasks.py").read_text().startswith(f"from {new}.constants import (\n")
    pyproject = (root / "pyproject.toml").read_text()
    assert f'"pipelines/common/shared/{TEMPLATE}/**" = ["E501", "RUF100"]' in pyproject
    assert f'module = ["{new}.*"]' in pyproject
    baseline = json.loads((root / ".secrets.baseline").read_text())
    assert list(baseline["results"]) == [f"pipelines/common/shared/{TEMPLATE}/utils/tasks.py"]
    assert not any(note.todo for note in shared.notes)
    assert any(
        note.where == f"pipelines/{TEMPLATE}/utils" and USER in note.text for note in shared.notes
    ), shared.notes


def test_a_flow_module_another_pipeline_imports_stays_and_is_reported(tmp_path: Path) -> None:
    root = repository(tmp_path)
    write(root / "pipelines" / USER / "flow.py", f"from pipelines.{TEMPLATE}.flow import send\n")

    shared = share_cross_pipeline_modules(root)

    assert (root / "pipelines" / TEMPLATE / "flow.py").is_file()
    assert [(note.where, note.todo) for note in shared.notes] == [(f"pipelines/{TEMPLATE}/flow.py", True)]
    assert "a flow module cannot move" in shared.notes[0].text


def test_nothing_moves_when_pipelines_import_only_their_own_modules(tmp_path: Path) -> None:
    root = repository(tmp_path)
    write(root / "pipelines" / USER / "flow.py", f"from pipelines.{USER} import tasks\n")
    write(root / "pipelines" / USER / "tasks.py", "")

    assert share_cross_pipeline_modules(root).notes == []
    assert not (root / "pipelines/common/shared").exists()
