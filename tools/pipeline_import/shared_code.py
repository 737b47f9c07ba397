"""Modules one pipeline imports from another, moved to pipelines/common/shared/<pipeline>/ after an import.

The old repository let a pipeline import another's package (``from pipelines.rj_crm__disparo_template.utils
import ...``). Here a pipeline depends only on its own files and pipelines/common (pipelines/BUILD), which is
what lets the deploy plan a change inside a pipeline from that directory's graph alone. So a module another
pipeline imports moves, with the modules of its pipeline that it imports in turn, to
``pipelines/common/shared/<pipeline>/``, and every import of it, its own pipeline's included, is rewritten.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from pipeline_import.imported import Imported
from pipeline_import.sources import format_sources

SHARED_DIR: Final = "pipelines/common/shared"
SHARED_PACKAGE: Final = "pipelines.common.shared"
PIPELINE_DIR: Final = re.compile(r"^rj_[a-z0-9_]+__[a-z0-9_]+$")
NOT_MOVABLE: Final = frozenset({"flow", "__init__"})


def share_cross_pipeline_modules(root: Path) -> Imported:
    """Moves what pipelines import from one another and rewrites the imports; the report's notes."""
    shared = Imported(source=root / SHARED_DIR, name="pipelines/common/shared", kind="shared")
    pipelines_dir = root / "pipelines"
    pipelines = {path.name for path in pipelines_dir.iterdir() if PIPELINE_DIR.match(path.name)}
    wanted: dict[tuple[str, str], set[str]] = {}
    for importer, module, where in _imports_of_other_pipelines(pipelines_dir, pipelines):
        owner, name = module
        if _unit(pipelines_dir / owner, name) is None:
            shared.todo(where, f"imports pipelines.{owner}.{name}, which does not exist")
            continue
        wanted.setdefault(module, set()).add(importer)
    units = _closure(pipelines_dir, set(wanted))
    for owner, name in sorted(units):
        if name in NOT_MOVABLE:
            users = ", ".join(sorted(wanted.get((owner, name), set()))) or "a shared module"
            shared.todo(
                f"pipelines/{owner}/{name}.py",
                f"imported by {users}: a flow module cannot move to pipelines/common; move what they use "
                "out of it by hand",
            )
    movable = {unit for unit in units if unit[1] not in NOT_MOVABLE}
    for owner, name in sorted(movable):
        source = _unit(pipelines_dir / owner, name)
        assert source is not None
        destination = root / SHARED_DIR / owner / source.name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), destination)
        importers = sorted(wanted.get((owner, name), set()) - {owner})
        shared.changed(
            f"pipelines/{owner}/{source.name}",
            f"moved to {SHARED_DIR}/{owner}/{source.name}"
            + (f": imported by {', '.join(importers)}" if importers else ": imported by a moved module"),
        )
    if not movable:
        return shared
    _make_packages(root / SHARED_DIR)
    rewritten = [
        path
        for path in [*pipelines_dir.glob("rj_*/**/*.py"), *(root / SHARED_DIR).rglob("*.py")]
        if _rewrite_imports(root, path, movable, shared)
    ]
    # A rewritten import sorts elsewhere: format as the import formatted the pipeline (ruff's isort, black).
    touched = {root / SHARED_DIR / owner for owner, _ in movable}
    touched |= {
        pipelines_dir / path.relative_to(pipelines_dir).parts[0]
        for path in rewritten
        if PIPELINE_DIR.match(path.relative_to(pipelines_dir).parts[0])
    }
    for directory in sorted(touched):
        format_sources(root, directory, Imported(source=directory, name=directory.name))
    for owner in sorted({owner for owner, _ in movable}):
        _extend_relaxations(root, owner, shared)
    _rename_in_secrets_baseline(root, movable)
    return shared


def _make_packages(top: Path) -> None:
    """An ``__init__.py`` in every directory from ``top`` down to the moved modules, and a BUILD owning the
    sources of each directory that has any (``tailor`` finds nothing to add)."""
    directories = {path.parent for path in top.rglob("*.py")} | {top}
    for directory in sorted(directories):
        for package in [directory, *directory.parents]:
            if package != top and top not in package.parents:
                break
            if not (package / "__init__.py").exists():
                (package / "__init__.py").write_text("")
    for directory in sorted({path.parent for path in top.rglob("*.py")}):
        if not (directory / "BUILD").exists():
            (directory / "BUILD").write_text("python_sources()\n")


def _imports_of_other_pipelines(
    pipelines_dir: Path, pipelines: set[str]
) -> Iterator[tuple[str, tuple[str, str], str]]:
    """``(importing pipeline, (owner, top-level module of the owner), file:line)``."""
    for importer in sorted(pipelines):
        for path in sorted((pipelines_dir / importer).rglob("*.py")):
            for owner, name, line in _pipeline_imports(path, pipelines):
                if owner != importer:
                    yield importer, (owner, name), f"{path.relative_to(pipelines_dir.parent)}:{line}"


def _pipeline_imports(path: Path, pipelines: set[str]) -> Iterator[tuple[str, str, int]]:
    """``(pipeline, its top-level module, line)`` of each ``pipelines.<pipeline>.<module>`` import."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        modules: list[tuple[str, list[str]]] = []
        if isinstance(node, ast.Import):
            modules = [(alias.name, []) for alias in node.names]
        elif node.level == 0 and node.module:
            modules = [(node.module, [alias.name for alias in node.names])]
        for module, names in modules:
            parts = module.split(".")
            if len(parts) < 2 or parts[0] != "pipelines" or parts[1] not in pipelines:
                continue
            for name in [parts[2]] if len(parts) > 2 else names:
                yield parts[1], name, node.lineno


def _unit(pipeline_dir: Path, name: str) -> Path | None:
    """The module file or package directory ``name`` of a pipeline."""
    if (pipeline_dir / name / "__init__.py").is_file() or (pipeline_dir / name).is_dir():
        return pipeline_dir / name
    if (pipeline_dir / f"{name}.py").is_file():
        return pipeline_dir / f"{name}.py"
    return None


def _closure(pipelines_dir: Path, units: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """``units`` and the modules of their own pipeline they import, transitively."""
    found: set[tuple[str, str]] = set()
    pending = sorted(units)
    while pending:
        owner, name = pending.pop()
        if (owner, name) in found:
            continue
        found.add((owner, name))
        unit = _unit(pipelines_dir / owner, name)
        if unit is None or name in NOT_MOVABLE:
            continue
        files = [unit] if unit.is_file() else sorted(unit.rglob("*.py"))
        for path in files:
            for other_owner, other, _ in _pipeline_imports(path, {owner}):
                if other_owner == owner and _unit(pipelines_dir / owner, other) is not None:
                    pending.append((owner, other))
    return found


def _rewrite_imports(root: Path, path: Path, moved: set[tuple[str, str]], shared: Imported) -> bool:
    """``pipelines.<owner>.<module>`` -> ``pipelines.common.shared.<owner>.<module>`` on the import lines;
    whether the file changed."""
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    lines = text.splitlines(keepends=True)
    changed = False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            continue
        end = getattr(node, "end_lineno", None) or node.lineno
        for number in range(node.lineno, end + 1):
            line = lines[number - 1]
            new = line
            for owner, name in moved:
                new = re.sub(rf"\bpipelines\.{owner}\.{name}\b", f"{SHARED_PACKAGE}.{owner}.{name}", new)
                new = re.sub(
                    rf"\bfrom\s+pipelines\.{owner}\s+import\s+{name}\b",
                    f"from {SHARED_PACKAGE}.{owner} import {name}",
                    new,
                )
            if new != line:
                lines[number - 1] = new
                changed = True
                shared.changed(
                    f"{path.relative_to(root)}:{number}",
                    f"import of pipelines.{owner}'s shared code rewritten",
                )
    if changed:
        path.write_text("".join(lines), encoding="utf-8")
    return changed


def _extend_relaxations(root: Path, owner: str, shared: Imported) -> None:
    """The owner's ruff and mypy relaxations (relaxations.py) hold for its moved modules too."""
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    marker = f"# imported: {owner}"
    shared_marker = f"# imported: shared {owner}"
    if marker not in text or shared_marker in text:
        return
    label = f'"pipelines/{owner}/**"'
    additions: list[str] = []
    for line in text.splitlines():
        if line.startswith(label) and line.rstrip().endswith(marker):
            ruff_line = line.replace(label, f'"{SHARED_DIR}/{owner}/**"').replace(marker, shared_marker)
            text = text.replace(line + "\n", line + "\n" + ruff_line + "\n", 1)
            additions.append("ruff")
            break
    text = text.rstrip("\n") + (
        f'\n\n[[tool.mypy.overrides]]  {shared_marker}\nmodule = ["{SHARED_PACKAGE}.{owner}.*"]\n'
        "ignore_errors = true\nignore_missing_imports = true\n"
    )
    additions.append("mypy")
    pyproject.write_text(text)
    shared.changed(
        "pyproject.toml",
        f"{' and '.join(additions)} relaxations of {owner} extended to {SHARED_DIR}/{owner}/",
    )


def _rename_in_secrets_baseline(root: Path, moved: set[tuple[str, str]]) -> None:
    """Reviewed secrets of a moved file keep counting under its new path."""
    baseline = root / ".secrets.baseline"
    if not baseline.is_file():
        return
    data = json.loads(baseline.read_text())
    results = data.get("results", {})
    renamed = {}
    for path, found in results.items():
        for owner, name in moved:
            old = f"pipelines/{owner}/{name}"
            if path == f"{old}.py" or path.startswith(f"{old}/"):
                path = f"{SHARED_DIR}/{owner}/{path.removeprefix(f'pipelines/{owner}/')}"
                for item in found:
                    item["filename"] = path
        renamed[path] = found
    if renamed != results:
        data["results"] = renamed
        baseline.write_text(json.dumps(data, indent=2) + "\n")
