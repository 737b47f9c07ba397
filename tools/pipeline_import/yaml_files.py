"""YAML in and out: the old prefect.yaml read with the line of every key, the new one written in this
repository's style."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline_import.imported import UnusableInput

# A key's path in a YAML document: mapping keys and sequence positions from the root.
Location = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlFile:
    """A parsed YAML file and the line of every key, to say where in the old file a note comes from."""

    path: Path
    data: Any
    lines: Mapping[Location, int]

    def where(self, location: Location) -> str:
        """``<dir>/<file>:<line>`` of the location, or of its nearest parent that has a line."""
        while location and location not in self.lines:
            location = location[:-1]
        line = self.lines.get(location)
        name = f"{self.path.parent.name}/{self.path.name}"
        return f"{name}:{line}" if line else name


def read_yaml(path: Path) -> YamlFile:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UnusableInput(f"{path.name} is not UTF-8 text ({error})") from None
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as error:
        raise UnusableInput(f"{path.name} is not valid YAML: {error}") from None
    lines: dict[Location, int] = {}

    def walk(node: yaml.Node, location: Location) -> None:
        lines.setdefault(location, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                lines[(*location, key.value)] = key.start_mark.line + 1
                walk(value, (*location, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                walk(item, (*location, position))

    if root is not None:
        walk(root, ())
    return YamlFile(path, data, lines)


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as this repository's prefect.yaml files are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump_yaml(config: Mapping[str, Any]) -> str:
    text = yaml.dump(config, Dumper=_IndentedDumper, sort_keys=False, allow_unicode=True, width=110)
    # A blank line before each deployment, and before the top-level keys that open a section.
    text = re.sub(r"\n(  - name: )", r"\n\n\1", text)
    return re.sub(r"\n(build|pull|deployments):", r"\n\n\1:", text)
