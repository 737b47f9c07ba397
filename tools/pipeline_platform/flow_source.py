"""A flow file read as Prefect reads it from source (without importing it), never raising: its syntax, the
``@flow`` function an entrypoint names, and that flow's name and parameter schema.

Problems are (line or None, reason) pairs about the flow file itself; a function that is missing or is not a
flow is a problem of the entrypoint that names it, so ``find_flow`` returns that reason to its caller.
"""

from __future__ import annotations

import ast
import codecs
import difflib
import functools
import hashlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect.flows import load_flow_arguments_from_entrypoint
from prefect.utilities.callables import generate_parameter_schema, parameter_schema_from_entrypoint

from pipeline_platform.prefect_internals import signature_from_source

FileProblem = tuple[int | None, str]


@dataclass(frozen=True)
class FlowFile:
    """A flow file's source and syntax tree (None when it cannot be read or parsed) and why."""

    path: Path
    source: str | None = None
    tree: ast.Module | None = None
    digest: str = ""
    problems: tuple[FileProblem, ...] = field(default=())


@dataclass(frozen=True)
class FlowSignature:
    """A flow's name and parameter schema, or the problems that keep Prefect from reading them."""

    name: str | None
    schema: dict[str, Any] | None
    problems: tuple[FileProblem, ...] = ()


def read_flow_file(path: Path) -> FlowFile:
    try:
        raw = path.read_bytes()
    except OSError as error:
        return FlowFile(path, problems=((None, f"cannot be read ({error.strerror or error})"),))
    digest = hashlib.sha256(raw).hexdigest()
    if raw.startswith(codecs.BOM_UTF8):  # Python skips it; Prefect's source reader does not, and cannot parse
        return FlowFile(
            path,
            digest=digest,
            problems=(
                (
                    1,
                    "starts with a byte order mark, which Prefect cannot parse: save it as UTF-8 without BOM",
                ),
            ),
        )
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        return FlowFile(
            path,
            digest=digest,
            problems=(
                (
                    line,
                    f"not UTF-8: byte 0x{raw[error.start]:02x} (Python and Prefect read source files as "
                    "UTF-8: save it as UTF-8)",
                ),
            ),
        )
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as error:
        where = error.lineno or (raw.count(b"\n", 0, raw.index(b"\x00")) + 1 if b"\x00" in raw else None)
        return FlowFile(path, source, digest=digest, problems=((where, f"syntax error: {error.msg}"),))
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes; nesting deeper than the parser's
        return FlowFile(path, source, digest=digest, problems=((None, f"cannot be parsed: {error}"),))
    return FlowFile(path, source, tree, digest)


def find_flow(
    flow_file: FlowFile, function: str
) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef | None, str]:
    """The module-level ``@flow`` function named ``function``, or None and why (for the entrypoint)."""
    assert flow_file.tree is not None
    functions = {
        node.name: node
        for node in flow_file.tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    node = functions.get(function)
    if node is None:
        close = difflib.get_close_matches(function, list(functions), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return None, f"has no function {function!r} decorated with @flow{hint}"
    if not any(_decorator_name(decorator) == "flow" for decorator in node.decorator_list):
        return (
            None,
            f"has no function {function!r} decorated with @flow (line {node.lineno} is not decorated)",
        )
    return node, ""


def flow_signature(flow_file: FlowFile, node: ast.FunctionDef | ast.AsyncFunctionDef) -> FlowSignature:
    """Read with Prefect's own functions, cached by the file's content (a prefect.yaml usually points every
    deployment at the same flow)."""
    return _flow_signature(str(flow_file.path), node.name, flow_file.digest, node.lineno)


@functools.lru_cache(maxsize=512)
def _flow_signature(path: str, function: str, digest: str, line: int) -> FlowSignature:
    entrypoint = f"{path}:{function}"
    try:
        name = str(load_flow_arguments_from_entrypoint(entrypoint, {"name"})["name"])
    except (Exception, SystemExit) as error:  # the flow file's class bodies and defaults run here
        return FlowSignature(
            None, None, ((line, f"cannot read the name of flow {function!r}: {_brief(error)}"),)
        )
    try:
        schema = parameter_schema_from_entrypoint(entrypoint).model_dump(exclude_unset=True)
    except (Exception, SystemExit) as error:
        return FlowSignature(name, None, tuple(_parameter_problems(path, function, line, error)))
    return FlowSignature(name, schema)


def _parameter_problems(path: str, function: str, line: int, error: BaseException) -> list[FileProblem]:
    """Which parameters Prefect cannot build a schema for (one problem each), else the error itself."""
    fallback: list[FileProblem] = [
        (
            line,
            f"Prefect cannot read the parameters of flow {function!r} (to read them it runs the file's "
            f"imports and class bodies): {_brief(error)}",
        )
    ]
    try:
        source = Path(path).read_text()
        signature = signature_from_source(source, function, path)
        lines = _parameter_lines(ast.parse(source), function)
    except (Exception, SystemExit):
        return fallback
    found: list[FileProblem] = []
    for parameter in signature.parameters.values():
        try:
            generate_parameter_schema(inspect.Signature([parameter]), {})
        except (Exception, SystemExit) as cause:
            found.append(
                (
                    lines.get(parameter.name, line),
                    f"parameter {parameter.name!r} of flow {function!r}: Prefect cannot build its schema "
                    f"(importing the flow fails the same way): {_brief(cause)}",
                )
            )
    return found or fallback


def _parameter_lines(tree: ast.Module, function: str) -> dict[str, int]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [argument for argument in (arguments.vararg, arguments.kwarg) if argument is not None]
            return {argument.arg: argument.lineno for argument in every}
    return {}


def _brief(error: BaseException) -> str:
    """The error's type and first paragraph (pydantic appends a documentation link after a blank line)."""
    message = str(error).strip().split("\n\n")[0].strip()
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _decorator_name(node: ast.expr) -> str | None:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None
