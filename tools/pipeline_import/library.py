"""Imports of the city's helper library (``iplanrio``) rewritten to pipelines/common/iplanrio, and the calls
of its functions checked against our signatures, before anything runs.

What the library offers here is read from pipelines/common/iplanrio's sources (ast, nothing is imported):
its modules' public top-level names, their parameters, and the values some parameters accept.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from prefect import Flow, Task

from pipeline_import.imported import Imported
from pipeline_import.sources import parsed_modules

OLD_PACKAGE: Final = "iplanrio.pipelines_utils"
NEW_PACKAGE: Final = "pipelines.common.iplanrio"
API_DIR: Final = "pipelines/common/iplanrio"
# The library's templates provided here, old module -> our module (``dump_db`` becomes the generic dump).
TEMPLATE_MODULES: Final = {
    "iplanrio.pipelines_templates.dump_arcgis.tasks": "dump_arcgis",
    "iplanrio.pipelines_templates.dump_url.flows": "dump_url",
    "iplanrio.pipelines_templates.dump_url.tasks": "dump_url",
}
# Parameter -> the module constant that lists the values we accept for it.
ACCEPTED_VALUES: Final = {
    "dump_mode": "DUMP_MODES",
    "source_format": "SOURCE_FORMATS",
    "level": "LEVELS",
    "action": "ACTIONS",
    "mode": "MODES",
    "environment": "MODES",
    "url_type": "URL_TYPES",
}
# Methods of a Prefect task or flow whose arguments are the function's own.
METHODS: Final = {"task": frozenset({"submit", "map", "fn"}), "flow": frozenset({"fn"})}


def _keyword_only(method: Callable[..., Any]) -> frozenset[str]:
    return frozenset(
        parameter.name
        for parameter in inspect.signature(method).parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    )


# (decorator, method) -> the keywords Prefect itself takes there (``wait_for=``, ``return_state=``, ...),
# read from Prefect's own signatures; ``None`` is a plain call. ``.fn`` is the bare function: none.
PREFECT_KEYWORDS: Final = {
    ("task", None): _keyword_only(Task.__call__),
    ("task", "submit"): _keyword_only(Task.submit),
    ("task", "map"): _keyword_only(Task.map),
    ("flow", None): _keyword_only(Flow.__call__),
}


@dataclass(frozen=True)
class Signature:
    positional: tuple[str, ...]
    keyword_only: tuple[str, ...]
    var_keyword: bool
    decorator: str | None = None  # "task" or "flow" for a Prefect task or flow


@dataclass
class Module:
    functions: dict[str, Signature] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    values: dict[str, tuple[str, ...]] = field(default_factory=dict)


def read_api(root: Path) -> dict[str, Module]:
    """``{"env": Module(...), ...}`` from the repository's pipelines/common/iplanrio."""
    api: dict[str, Module] = {}
    for path in sorted((root / API_DIR).glob("*.py")):
        if path.name.startswith("_") or path.stem == "conftest" or path.stem.endswith(("_test", "_testing")):
            continue
        module = Module()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                module.names.add(node.name)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                arguments = node.args
                module.functions[node.name] = Signature(
                    tuple(a.arg for a in [*arguments.posonlyargs, *arguments.args]),
                    tuple(a.arg for a in arguments.kwonlyargs),
                    arguments.kwarg is not None,
                    _prefect_decorator(node),
                )
            target: ast.expr | None = None
            value: ast.expr | None = None
            if isinstance(node, ast.AnnAssign):
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            if isinstance(target, ast.Name) and value is not None:
                module.names.add(target.id)
                values = _literal_values(value)
                if values is not None:
                    module.values[target.id] = values
        api[path.stem] = module
    return api


def _prefect_decorator(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """``task`` or ``flow`` for ``@task``, ``@task(...)``, ``@prefect.flow``, ...; None otherwise."""
    for decorator in node.decorator_list:
        called = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", None)
        if name in METHODS:
            return str(name)
    return None


def _literal_values(node: ast.expr) -> tuple[str, ...] | None:
    """A tuple's items or a dict's keys, when they are literals."""
    items = node.keys if isinstance(node, ast.Dict) else node.elts if isinstance(node, ast.Tuple) else None
    if items is None or not all(isinstance(item, ast.Constant) for item in items):
        return None
    return tuple(str(item.value) for item in items if isinstance(item, ast.Constant))


def uses(target: Path, name: str) -> bool:
    """Whether any rewritten source imports ``name`` from pipelines/common/iplanrio."""
    return any(
        NEW_PACKAGE in text and name in text
        for text in (path.read_text(encoding="utf-8", errors="replace") for path in target.rglob("*.py"))
    )


def rewrite_library_imports(target: Path, label: str, api: dict[str, Module], imported: Imported) -> None:
    """Rewrites every ``from iplanrio.pipelines_utils.<m> import ...`` (and the templates of TEMPLATE_MODULES)
    whose names we provide; what we do not provide stays, one ``!`` per import with file:line."""
    for path, lines, tree in parsed_modules(target):
        relative = f"{label}/{path.relative_to(target)}"
        changed = False
        bound: dict[str, tuple[str, str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "iplanrio":
                        imported.todo(
                            f"{relative}:{node.lineno}",
                            f"import {alias.name}: write `from {NEW_PACKAGE}.<module> import ...` "
                            "(docs/importar.md)",
                        )
                continue
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if node.module.split(".")[0] != "iplanrio":
                continue
            where = f"{relative}:{node.lineno}"
            old_module = node.module
            short = TEMPLATE_MODULES.get(old_module, old_module.removeprefix(f"{OLD_PACKAGE}."))
            provided = old_module in TEMPLATE_MODULES or old_module.startswith(f"{OLD_PACKAGE}.")
            module = api.get(short) if provided else None
            names = [alias.name for alias in node.names]
            if module is None:
                imported.todo(
                    where,
                    f"from {old_module} import {', '.join(names)}: no equivalent here (docs/importar.md)",
                )
                continue
            missing = [name for name in names if name not in module.names]
            if missing:
                imported.todo(
                    where,
                    f"from {old_module} import {', '.join(missing)}: not provided by {NEW_PACKAGE}.{short} "
                    "(docs/importar.md)",
                )
                continue
            line = lines[node.lineno - 1]
            if old_module not in line:
                imported.todo(where, f"from {old_module}: the import spans lines oddly; rewrite it by hand")
                continue
            lines[node.lineno - 1] = line.replace(old_module, f"{NEW_PACKAGE}.{short}", 1)
            changed = True
            imported.changed(where, f"{old_module} -> {NEW_PACKAGE}.{short}")
            for alias in node.names:
                bound[alias.asname or alias.name] = (short, alias.name)
        if changed:
            path.write_text("".join(lines), encoding="utf-8")
            for line_number, message in check_calls(tree, bound, api):
                imported.todo(f"{relative}:{line_number}", message)


def check_calls(
    tree: ast.AST, bound: dict[str, tuple[str, str]], api: dict[str, Module]
) -> Iterator[tuple[int, str]]:
    """Calls of the rewritten functions with arguments or literal values that our versions refuse."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        method: str | None = None
        if isinstance(function, ast.Attribute) and function.attr in METHODS["task"]:
            method = function.attr
            function = function.value
        if not isinstance(function, ast.Name) or function.id not in bound:
            continue
        short, name = bound[function.id]
        module = api[short]
        signature = module.functions.get(name)
        if signature is None:
            continue
        if method is not None and method not in METHODS.get(signature.decorator or "", ()):
            kind = f"a Prefect {signature.decorator}" if signature.decorator else "a plain function"
            yield node.lineno, (
                f"{name}.{method}(): {name} is {kind} here, without .{method} (docs/importar.md)"
            )
            continue
        prefect_keywords = PREFECT_KEYWORDS.get((signature.decorator or "", method), frozenset())
        if not any(isinstance(arg, ast.Starred) for arg in node.args) and len(node.args) > len(
            signature.positional
        ):
            yield node.lineno, (
                f"{name}() takes {len(signature.positional)} positional argument(s), this call passes "
                f"{len(node.args)}"
            )
        passed: list[tuple[str, ast.expr]] = list(zip(signature.positional, node.args, strict=False))
        for keyword in node.keywords:
            if keyword.arg is None or keyword.arg in prefect_keywords:
                continue
            if (
                keyword.arg not in (*signature.positional, *signature.keyword_only)
                and not signature.var_keyword
            ):
                yield node.lineno, f"{name}(): argument {keyword.arg!r} is not supported (docs/importar.md)"
                continue
            passed.append((keyword.arg, keyword.value))
        for parameter, value in passed:
            accepted = module.values.get(ACCEPTED_VALUES.get(parameter, ""))
            if accepted and isinstance(value, ast.Constant) and str(value.value) not in accepted:
                yield node.lineno, (
                    f"{name}(): {parameter}={value.value!r} is not supported here: use one of "
                    f"{', '.join(accepted)}"
                )
