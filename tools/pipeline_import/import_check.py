"""The imports of the copied sources that nothing in this repository provides, with file and line."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from pipeline_import.imported import Imported
from pipeline_import.module_names import distributions_of
from pipeline_import.requirements import HELPER_LIBRARIES, Requirements
from pipelines.common.naming import PipelineName

NAMESPACE_PACKAGES: Final = frozenset({"google", "google.cloud"})
NO_REQUIREMENT: Final = (
    "no requirement provides it: add its distribution to the old pyproject.toml and import again, or to "
    "3rdparty/python/requirements.txt"
)


def check_imports(
    root: Path,
    target: Path,
    pipeline: PipelineName,
    requirements: Requirements,
    imported: Imported,
    batch: frozenset[str] = frozenset(),
) -> None:
    """Imports that nothing here provides (they fail the pipeline's lint, check and test), with file:line.
    An import of another pipeline that is here or in ``batch`` is shared_code.py's."""
    provided = requirements.names()
    others = batch | {path.name for path in (root / "pipelines").glob("rj_*") if path.is_dir()}
    for path in sorted(target.rglob("*.py")):
        relative = f"pipelines/{pipeline.dir_name}/{path.relative_to(target)}"
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError as error:
            imported.todo(f"{relative}:{error.lineno}", f"syntax error: {error.msg}")
            continue
        except UnicodeDecodeError as error:
            imported.todo(relative, f"not UTF-8 text ({error.reason}): its imports were not checked")
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for module in _imported_modules(node):
                reason = _unowned(root, target, pipeline, module, provided, others)
                where = f"{relative}:{node.lineno}"
                if reason == NO_REQUIREMENT and (
                    requirements.bring(distributions_of(module), imported, where)
                    or (
                        not _named_like_a_local_file(target, module)
                        and requirements.guess(module, distributions_of(module), imported, where)
                    )
                ):
                    provided = requirements.names()
                    continue
                if reason:
                    imported.todo(where, f"import {module}: {reason}")


def _imported_modules(node: ast.Import | ast.ImportFrom) -> Iterable[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module in NAMESPACE_PACKAGES:  # `from google.cloud import bigquery`: one module per name
            return [f"{node.module}.{alias.name}" for alias in node.names]
        return [node.module]
    return []


def _unowned(
    root: Path, target: Path, pipeline: PipelineName, module: str, provided: set[str], others: frozenset[str]
) -> str | None:
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__":
        return None
    if top in HELPER_LIBRARIES:
        return None  # rewritten to pipelines/common/iplanrio, or reported with its line by library.py
    if top == "src":
        return (
            "shared code of the old repository (src/), not available here: copy what it uses into the "
            "pipeline"
        )
    if top == "pipelines":
        parts = module.split(".")
        if len(parts) == 1:
            return None
        if parts[1] == pipeline.dir_name:
            return None if _module_exists(target.parent, parts[1:]) else "no such module in the pipeline"
        if parts[1] == "common":
            return (
                None
                if _module_exists(root / "pipelines", parts[1:])
                else "no such module in pipelines/common"
            )
        if parts[1] in others:
            return None  # moved to pipelines/common/shared after the import (shared_code.py)
        return (
            "another pipeline, not imported: pipelines import only their own files and pipelines/common; "
            f"import {parts[1]} in the same run and its shared modules move to pipelines/common/shared"
        )
    if distributions_of(module) & provided:
        return None
    return NO_REQUIREMENT


def _named_like_a_local_file(target: Path, module: str) -> bool:
    """Whether a module or package of the pipeline, at any depth, has the import's top-level name: an import
    that worked through a path trick, never a distribution to add."""
    top = module.split(".")[0]
    return any(target.rglob(f"{top}.py")) or any(path.is_dir() for path in target.rglob(top))


def _module_exists(base: Path, parts: Sequence[str]) -> bool:
    for end in range(len(parts), 0, -1):
        path = base.joinpath(*parts[:end])
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return True
    return False
