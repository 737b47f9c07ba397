"""What the importer copies from an old pipeline's directory, what it leaves and why, how it reads the
old Dockerfile, and the pipeline's own modules imported by bare name (old-layout directories written here)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from pipeline_import.imported import Imported
from pipeline_import.sibling_imports import rewrite_sibling_imports
from pipeline_import.sources import copy_sources, old_dockerfile_notes

OLD_DOCKERFILE = """\
FROM ghcr.io/prefeitura-rio/prefect_rj_iplanrio:latest

# Install basic build dependencies
RUN apt-get update && apt-get install -y \\
    {packages} \\
    && rm -rf /var/lib/apt/lists/*

COPY ./pipelines/rj_x__y ./pipelines/rj_x__y/
RUN uv sync --package rj_x__y
"""


def notes(imported: Imported) -> list[tuple[str, str, str]]:
    return [("!" if note.todo else "✓", note.where, note.text) for note in imported.notes]


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(textwrap.dedent(text))
    return directory


def test_files_are_copied_left_or_reported_by_what_they_are(tmp_path: Path) -> None:
    old = write(
        tmp_path / "rj_x__y",
        {
            "flow.py": "from pathlib import Path\nPROGRAM = Path(__file__).parent / 'transform.jq'\n",
            "transform.jq": ".[]\n",
            "queries/a.sql": "select 1\n",
            "README.md": "# Pipeline\n",
            ".dockerignore": "*\n",
            ".python-version": "3.13\n",
            "schema_1746": "id int\n",
            "Dockerfile": "FROM x\n",
        },
    )
    target = tmp_path / "new"
    target.mkdir()
    imported = Imported(source=old, name="rj_x__y")
    assert copy_sources(old, target, imported) == ["queries/*.sql", "transform.jq"]
    assert sorted(str(path.relative_to(target)) for path in target.rglob("*") if path.is_file()) == [
        "README.md",
        "__init__.py",
        "flow.py",
        "queries/a.sql",
        "transform.jq",
    ]
    assert notes(imported) == [
        (
            "✓",
            "rj_x__y/.dockerignore",
            "not copied: Pants builds the image from the pipeline's pex, not from this directory",
        ),
        ("✓", "rj_x__y/.python-version", "not copied: the interpreter is the repository's"),
        ("✓", "rj_x__y/README.md", "copied (documentation; not in the image)"),
        (
            "!",
            "rj_x__y/schema_1746",
            "not copied (not Python nor a data file): copy it by hand if it is read",
        ),
        ("✓", "rj_x__y/transform.jq", "copied into the image: the pipeline's code names it"),
        ("✓", "pipelines/new/__init__.py", "added (every package here has an __init__.py)"),
    ]


def test_a_dockerfile_that_only_installs_build_tools_needs_nothing(tmp_path: Path) -> None:
    build_only = write(
        tmp_path / "a" / "rj_x__y", {"Dockerfile": OLD_DOCKERFILE.format(packages="build-essential")}
    )
    imported = Imported(source=build_only, name="rj_x__y")
    old_dockerfile_notes(build_only, imported)
    assert notes(imported) == [
        (
            "✓",
            "rj_x__y/Dockerfile:4",
            "build tools not installed: requirements are built on the host into the pipeline's pex",
        )
    ]
    system = write(
        tmp_path / "b" / "rj_x__y",
        {"Dockerfile": OLD_DOCKERFILE.format(packages="libgeos-dev \\\n    build-essential")},
    )
    imported = Imported(source=system, name="rj_x__y")
    old_dockerfile_notes(system, imported)
    [(mark, where, text)] = notes(imported)
    assert (mark, where) == ("!", "rj_x__y/Dockerfile:4")
    assert "`libgeos-dev \\`" in text


def test_the_pipelines_own_modules_imported_by_bare_name_come_from_its_package(tmp_path: Path) -> None:
    target = write(
        tmp_path / "rj_x__y",
        {
            "flow.py": """\
                import json
                import utils as u  # helpers
                from utils import (
                    send,
                )
                from helpers.text import clean
                import tasks, utils
                from requests import get
                """,
            "utils.py": "def send() -> None: ...\n",
            "tasks.py": "",
            "helpers/__init__.py": "",
            "helpers/text.py": "from utils import send\n",
            "json.py": "",
        },
    )
    imported = Imported(source=target, name="rj_x__y")
    rewrite_sibling_imports(target, "pipelines.rj_x__y", "pipelines/rj_x__y", imported)
    assert (target / "flow.py").read_text() == textwrap.dedent("""\
        import json
        from pipelines.rj_x__y import utils as u  # helpers
        from pipelines.rj_x__y.utils import (
            send,
        )
        from pipelines.rj_x__y.helpers.text import clean
        import tasks, utils
        from requests import get
        """)
    assert (target / "helpers" / "text.py").read_text() == "from pipelines.rj_x__y.utils import send\n"
    where = "pipelines/rj_x__y"
    assert notes(imported) == [
        ("✓", f"{where}/flow.py:2", "import of the pipeline's own 'utils' -> pipelines.rj_x__y"),
        ("✓", f"{where}/flow.py:3", "import of the pipeline's own 'utils' -> pipelines.rj_x__y"),
        ("✓", f"{where}/flow.py:6", "import of the pipeline's own 'helpers.text' -> pipelines.rj_x__y"),
        ("!", f"{where}/flow.py:7", "import of the pipeline's own 'tasks': import it from pipelines.rj_x__y"),
        ("✓", f"{where}/helpers/text.py:1", "import of the pipeline's own 'utils' -> pipelines.rj_x__y"),
    ]
