"""A YAML file written by hand, read without ever raising: its data, the line of every key and item, and
each reason it does not read as its author meant (bytes that are not UTF-8, tabs, duplicate keys, several
documents, aliases that never end).

PyYAML alone keeps the last of two equal keys in silence and expands aliases without limit; here both are
problems. Nothing is constructed from a document that cannot be read: ``data`` is then None.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Location = tuple[str | int, ...]
# libyaml's safe loader when PyYAML has it (several times faster), else the pure-Python one.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Values that aliases may add beyond the file's own: more is a "billion laughs" document, not a config file.
MAX_ALIAS_EXPANSION = 100_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class YamlDocument:
    """What a file holds; ``problems`` are (line or None, reason) pairs; ``data`` is None if unreadable."""

    data: Any = None
    readable: bool = False
    lines: dict[Location, int] = field(default_factory=dict)
    problems: list[tuple[int | None, str]] = field(default_factory=list)

    def line(self, location: Location) -> int | None:
        """The line of ``location``, or of its closest parent that has one."""
        while location and location not in self.lines:
            location = location[:-1]
        return self.lines.get(location)


def read_yaml(path: Path) -> YamlDocument:
    document = YamlDocument()
    try:
        raw = path.read_bytes()
    except OSError as error:
        document.problems.append((None, f"cannot be read ({error.strerror or error})"))
        return document
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        document.problems.append(
            (line, "is not a text file (it holds NUL bytes): write the YAML as UTF-8 text")
        )
        return document
    text = _decode(raw, document)
    try:
        loader = _LOADER(text)
    except (yaml.YAMLError, ValueError) as error:  # the pure-Python reader checks characters up front
        document.problems.append(_yaml_error(error, text))
        return document
    try:
        root = loader.get_single_node()
        if root is not None and not _bounded(root, document):
            return document
        if root is not None:
            _index(root, document)
        document.data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as error:
        document.problems.append(_yaml_error(error, text))
        return document
    except RecursionError:
        document.problems.append((None, "nested too deeply to be read"))
        return document
    finally:
        loader.dispose()
    document.readable = True
    return document


def _decode(raw: bytes, document: YamlDocument) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        document.problems.append(
            (
                line,
                f"not UTF-8: byte 0x{raw[error.start]:02x} at column {column} (save the file as UTF-8; "
                "the rest was read with that byte replaced)",
            )
        )
        return raw.decode("utf-8", errors="replace")


def _yaml_error(error: Exception, text: str) -> tuple[int | None, str]:
    if isinstance(error, yaml.reader.ReaderError):
        code = error.character if isinstance(error.character, int) else ord(str(error.character)[:1] or "?")
        return (
            text.count("\n", 0, error.position) + 1,
            f"not valid YAML: character #x{code:04x} is not allowed in YAML: remove it",
        )
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    if isinstance(error, yaml.composer.ComposerError) and "single document" in str(error.context):
        return line, "holds more than one YAML document (a `---` line starts another): keep one"
    rows = text.splitlines()
    if mark is not None and mark.line < len(rows):
        row = rows[mark.line]
        if "\t" in row[: len(row) - len(row.lstrip(" \t"))]:
            return (
                line,
                "not valid YAML: a tab in the indentation (YAML indents with spaces only: replace it)",
            )
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    return line, f"not valid YAML: {f'{context}: ' if context else ''}{problem}"


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _bounded(root: yaml.Node, document: YamlDocument) -> bool:
    """No alias inside itself, and aliases adding at most MAX_ALIAS_EXPANSION values (iterative: a document
    nested a thousand levels deep must not exhaust Python's stack)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            open_nodes.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(child)] for child in _children(node)), 1 << 40)
            continue
        if id(node) in sizes:
            continue
        open_nodes.add(id(node))
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                document.problems.append(
                    (child.start_mark.line + 1, "an alias refers to a node that contains it (endless data)")
                )
                return False
            if id(child) not in sizes:
                stack.append((child, False))
    distinct = len(sizes)
    if sizes[id(root)] - distinct > MAX_ALIAS_EXPANSION:
        document.problems.append(
            (
                None,
                f"its aliases expand {distinct} values to {sizes[id(root)]:,} (more than "
                f"{MAX_ALIAS_EXPANSION:,} repeated values): not a configuration file; write the values "
                "out or use fewer aliases",
            )
        )
        return False
    return True


def _index(root: yaml.Node, document: YamlDocument) -> None:
    """The line of every key and item, and duplicate keys (each mapping checked once, aliases included)."""
    checked: set[int] = set()
    stack: list[tuple[yaml.Node, Location]] = [(root, ())]
    while stack:
        node, location = stack.pop()
        document.lines.setdefault(location, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            first_seen: dict[str, int] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                    continue  # merged keys (`<<: *base`) take the line of the mapping they are merged into
                line = key.start_mark.line + 1
                if id(node) not in checked and key.value in first_seen:
                    document.problems.append(
                        (
                            line,
                            f"duplicate key {key.value!r} (first at line {first_seen[key.value]}): YAML "
                            "keeps only the last one, in silence; keep one",
                        )
                    )
                first_seen.setdefault(key.value, line)
                document.lines[(*location, key.value)] = line
                stack.append((value, (*location, key.value)))
            checked.add(id(node))
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                stack.append((item, (*location, position)))
