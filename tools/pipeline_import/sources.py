"""The old pipeline's files: its sources and data files copied and formatted, its Dockerfile read."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import black
from black.mode import TargetVersion
from black.report import NothingChanged

from pipeline_import.imported import Imported

# Files of the old layout that this repository replaces.
REPLACED_FILES: Final = frozenset({"Dockerfile", "prefect.yaml", "pyproject.toml", "uv.lock", "BUILD"})
DATA_SUFFIXES: Final = (".sql", ".json", ".yaml", ".yml", ".csv", ".txt", ".j2", ".html")
SKIPPED_DIRS: Final = frozenset({"__pycache__", ".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
# Files of the old layout with no use here, and why.
NOT_NEEDED: Final = {
    ".dockerignore": "Pants builds the image from the pipeline's pex, not from this directory",
    ".python-version": "the interpreter is the repository's",
    ".gitignore": "the repository's .gitignore applies",
    ".DS_Store": "macOS folder metadata",
}
# Documentation: copied along, not part of the image.
DOC_SUFFIXES: Final = (".md", ".rst")
# Debian packages that only build Python distributions: here the requirements are built on the host (pex).
BUILD_PACKAGES: Final = frozenset({"build-essential", "gcc", "g++", "make", "pkg-config", "python3-dev"})


def copy_sources(source: Path, target: Path, imported: Imported) -> list[str]:
    """The old pipeline's Python sources and data files, subpackages included; the data files' globs."""
    globs: set[str] = set()
    files = sorted(_files(source))
    code = "\n".join(
        path.read_text(encoding="utf-8", errors="replace") for path in files if path.suffix == ".py"
    )
    for path in files:
        relative = path.relative_to(source)
        where = f"{source.name}/{relative}"
        if relative.name in REPLACED_FILES and len(relative.parts) == 1:
            continue
        if relative.name in NOT_NEEDED:
            imported.changed(where, f"not copied: {NOT_NEEDED[relative.name]}")
            continue
        read = re.search(rf"(?<![\w.-]){re.escape(path.name)}(?![\w.-])", code) is not None
        if path.suffix == ".py" or path.suffix in DATA_SUFFIXES or path.suffix in DOC_SUFFIXES or read:
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / relative)
        if path.suffix in DATA_SUFFIXES:
            globs.add(
                str(relative.parent / f"*{path.suffix}") if relative.parent.parts else f"*{path.suffix}"
            )
        elif path.suffix == ".py":
            continue
        elif read:  # e.g. a jq program the flow runs
            globs.add(str(relative))
            imported.changed(where, "copied into the image: the pipeline's code names it")
        elif path.suffix in DOC_SUFFIXES:
            imported.changed(where, "copied (documentation; not in the image)")
        else:
            imported.todo(where, "not copied (not Python nor a data file): copy it by hand if it is read")
    for directory in sorted({path.parent for path in target.rglob("*.py")}):
        init = directory / "__init__.py"
        if not init.exists():
            init.write_text("")
            imported.changed(
                f"pipelines/{target.name}/{init.relative_to(target)}",
                "added (every package here has an __init__.py)",
            )
        build = directory / "BUILD"
        if directory != target and not build.exists():
            # The pipeline's BUILD owns its own directory's files only: a subpackage gets its own target.
            build.write_text("python_sources()\n")
            imported.changed(
                f"pipelines/{target.name}/{build.relative_to(target)}",
                "added (Pants owns the subpackage's modules)",
            )
    return sorted(globs)


def parsed_modules(target: Path) -> Iterator[tuple[Path, list[str], ast.Module]]:
    """Each Python file of ``target`` that parses: its path, its lines (line ends kept) and its tree (the
    others are reported by check_imports)."""
    for path in sorted(target.rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (SyntaxError, UnicodeDecodeError):
            continue
        yield path, text.splitlines(keepends=True), tree


def _files(root: Path) -> Iterator[Path]:
    for path in root.iterdir():
        if path.is_symlink():
            continue
        if path.is_dir():
            if path.name not in SKIPPED_DIRS and not path.name.startswith("."):
                yield from _files(path)
        elif path.is_file():
            yield path


def format_sources(root: Path, target: Path, imported: Imported) -> None:
    """Formats the copied Python files as the repository's lint wants: black, ruff's safe fixes, then black
    again (ruff's import sorting may leave lines black wraps differently)."""
    line_length = int(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["black"]["line-length"])
    mode = black.Mode(line_length=line_length, target_versions={TargetVersion.PY311})
    reformatted = _black(target, mode, imported)
    if reformatted:
        imported.changed(f"pipelines/{target.name}/*.py", f"{reformatted} file(s) formatted with black")
    ruff = ruff_binary()
    if ruff is None:
        imported.todo(f"pipelines/{target.name}/*.py", "ruff not found: run ./pants fix on the pipeline")
        return
    subprocess.run(
        [
            ruff,
            "check",
            "--fix",
            "--quiet",
            "--exit-zero",
            "--config",
            str(root / "pyproject.toml"),
            str(target),
        ],
        capture_output=True,
        check=False,
    )
    _black(target, mode, None)


def _black(target: Path, mode: black.Mode, imported: Imported | None) -> int:
    """Formats every Python file of ``target`` with black; the number reformatted. What black cannot parse is
    reported (when ``imported`` is given)."""
    reformatted = 0
    for path in sorted(target.rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
            formatted = black.format_file_contents(text, fast=False, mode=mode)
        except NothingChanged:
            continue
        except UnicodeDecodeError:
            continue  # reported by check_imports
        except Exception as error:  # black's parse errors have no common base class
            if imported is not None:
                imported.todo(
                    f"pipelines/{target.name}/{path.relative_to(target)}",
                    f"black could not format it: {error}",
                )
            continue
        path.write_text(formatted, encoding="utf-8")
        reformatted += 1
    return reformatted


def ruff_binary() -> str | None:
    try:
        from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]
    except ImportError:
        return shutil.which("ruff")
    try:
        return str(find_ruff_bin())
    except FileNotFoundError:
        return shutil.which("ruff")


def old_dockerfile_notes(source: Path, imported: Imported) -> None:
    """Lines of the old Dockerfile beyond the usual FROM/COPY/uv sync: what the new one may need by hand."""
    path = source / "Dockerfile"
    if not path.is_file():
        return
    usual = re.compile(r"^(FROM|COPY|WORKDIR|LABEL|ENV\s+UV_|ARG\s+)|uv sync|^#", re.IGNORECASE)
    unusual = [
        (number, line.strip())
        for number, line in enumerate(
            path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1
        )
        if line.strip() and not usual.search(line.strip())
    ]
    if unusual and _only_build_packages(" ".join(text for _, text in unusual)):
        imported.changed(
            f"{source.name}/Dockerfile:{unusual[0][0]}",
            "build tools not installed: requirements are built on the host into the pipeline's pex",
        )
    elif unusual:
        imported.todo(
            f"{source.name}/Dockerfile:{unusual[0][0]}",
            "lines beyond the usual FROM/COPY/uv sync (add them below the FROM of the new Dockerfile if "
            f"needed): {' '.join(f'`{text}`' for _, text in unusual)}",
        )


def _only_build_packages(run: str) -> bool:
    """Whether ``RUN apt-get update && apt-get install -y build-essential && rm -rf /var/lib/apt/lists/*``
    (and the like) only installs packages that build Python distributions."""
    packages: set[str] = set()
    for command in run.replace("\\", " ").split("&&"):
        words = command.split()
        if words[:1] == ["RUN"]:
            words = words[1:]
        if words[:2] in (["apt-get", "update"], ["apt", "update"]) or words == [
            "rm",
            "-rf",
            "/var/lib/apt/lists/*",
        ]:
            continue
        if words[:2] not in (["apt-get", "install"], ["apt", "install"]):
            return False
        packages |= {word for word in words[2:] if not word.startswith("-")}
    return bool(packages) and packages <= BUILD_PACKAGES
