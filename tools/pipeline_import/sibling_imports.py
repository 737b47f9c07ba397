"""Imports of the pipeline's own modules by their bare name (``from utils import ...``), rewritten to the
pipeline's package.

Prefect puts the directory of a flow's file first on ``sys.path`` when it loads the flow by its path, so the
old pipelines could import a sibling ``utils.py`` as ``utils``. Here a pipeline is the package
``pipelines.<name>``: the bare name would find nothing (or a PyPI distribution of the same name).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from pipeline_import.imported import Imported
from pipeline_import.sources import parsed_modules


def local_modules(target: Path) -> set[str]:
    """The top-level modules and packages of the pipeline's directory (standard library names left out)."""
    modules = {path.stem for path in target.glob("*.py") if path.stem != "__init__"}
    modules |= {path.parent.name for path in target.glob("*/__init__.py")}
    return modules - set(sys.stdlib_module_names)


def rewrite_sibling_imports(target: Path, package: str, label: str, imported: Imported) -> None:
    """``from utils import x`` -> ``from <package>.utils import x`` and ``import utils`` -> ``from <package>
    import utils``, in every module of ``target``; one ``✓`` per line, a ``!`` for a form left as it was."""
    modules = local_modules(target)
    for path, lines, tree in parsed_modules(target):
        changed = False
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if getattr(node, "level", 0) or not any(name.split(".")[0] in modules for name in names):
                continue
            where = f"{label}/{path.relative_to(target)}:{node.lineno}"
            line = lines[node.lineno - 1]
            new = _rewritten(node, line, package)
            if new is None:
                imported.todo(where, f"import of the pipeline's own {names[0]!r}: import it from {package}")
                continue
            lines[node.lineno - 1] = new
            changed = True
            imported.changed(where, f"import of the pipeline's own {names[0]!r} -> {package}")
        if changed:
            path.write_text("".join(lines), encoding="utf-8")


def _rewritten(node: ast.Import | ast.ImportFrom, line: str, package: str) -> str | None:
    """The line importing from ``package``; None for a form this does not rewrite (several modules on one
    ``import``, a dotted ``import a.b``, a statement split oddly)."""
    if isinstance(node, ast.ImportFrom):
        top = re.escape(str(node.module).split(".")[0])
        new = re.sub(rf"^(\s*from\s+)({top})\b", rf"\g<1>{package}.\g<2>", line, count=1)
        return new if new != line else None
    if len(node.names) > 1 or "." in node.names[0].name:
        return None
    match = re.fullmatch(rf"(\s*)import\s+({re.escape(node.names[0].name)}\b.*)", line.rstrip("\n"))
    return f"{match.group(1)}from {package} import {match.group(2)}\n" if match else None
