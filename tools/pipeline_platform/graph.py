"""The pipeline-level dependency graph: pipelines, shared-library modules, requirements and the base image.

Built from the target graph Pants resolves (``./pants peek ::``): a pipeline's own targets (sources, pex,
image, prefect.yaml) collapse into one node; tests are left out; targets that only group others (the base
image's pex, ``image-interpreter-extras``) are looked through. Rendered as Mermaid or Graphviz DOT, with the
pipelines of a plan (and the changed nodes) highlighted.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipeline_platform.affected import Plan
from pipeline_platform.pants import TargetGraph

TEST_TYPES = frozenset({"python_test", "python_tests", "python_test_utils"})
BASE_IMAGE = "//:base"
SHARED_PREFIX = "pipelines/common/"
REQUIREMENTS_PREFIX = "3rdparty/python:"


class Kind(enum.Enum):
    PIPELINE = "Pipelines"
    MODULE = "Shared library (pipelines/common)"
    REQUIREMENT = "Requirements (3rdparty/python)"
    BASE = "Base image"


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    kind: Kind


@dataclass
class PipelineGraph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)
    # Node ids to highlight: pipelines to rebuild/register, and the changed nodes.
    rebuild: set[str] = field(default_factory=set)
    register: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)

    @classmethod
    def from_targets(cls, targets: TargetGraph, plan: Plan | None = None) -> PipelineGraph:
        graph = cls()
        memo: dict[str, set[str]] = {}

        def resolve(address: str, trail: frozenset[str] = frozenset()) -> set[str]:
            """Node ids that ``address`` stands for (several when looking through a grouping target)."""
            if address in memo:
                return memo[address]
            node = graph._node_for(address, targets)
            if node is not None:
                result = {node.id}
            elif address in trail or address not in targets or _ignored(address, targets):
                result = set()
            else:
                target = targets.targets[address]
                result = set().union(*(resolve(dep, trail | {address}) for dep in target.dependencies))
            memo[address] = result
            return result

        for address, target in sorted(targets.targets.items()):
            node = graph._node_for(address, targets)
            if node is None:
                continue
            for dependency in target.dependencies:
                for other in resolve(dependency):
                    if other != node.id:
                        graph.edges.add((node.id, other))
        # Requirements nothing here uses (tools such as mypy or black) stay out of the picture.
        used = {target for _, target in graph.edges}
        graph.nodes = {
            node_id: node
            for node_id, node in graph.nodes.items()
            if node.kind is not Kind.REQUIREMENT or node_id in used
        }
        if plan is not None:
            graph._highlight(plan, targets)
        return graph

    def _node_for(self, address: str, targets: TargetGraph) -> Node | None:
        if _ignored(address, targets):
            return None
        node: Node | None = None
        if address == BASE_IMAGE:
            node = Node("base_image", "base image (//:base)", Kind.BASE)
        elif address.startswith(SHARED_PREFIX) and address.endswith(".py"):
            module = address.removeprefix(SHARED_PREFIX).removesuffix(".py")
            node = Node(f"common_{_slug(module)}", f"common/{module}.py", Kind.MODULE)
        elif address.startswith(REQUIREMENTS_PREFIX):
            name = address.removeprefix(REQUIREMENTS_PREFIX).split("#", 1)[0]
            target = targets.targets.get(address)
            if target is None or target.target_type in ("python_requirement", "python_requirements"):
                node = Node(f"req_{_slug(name)}", name, Kind.REQUIREMENT)
        elif match := re.match(r"^pipelines/(rj_[a-z0-9_]+)[/:]", address):
            node = Node(f"pipeline_{match[1]}", match[1], Kind.PIPELINE)
        if node is not None:
            self.nodes.setdefault(node.id, node)
        return node

    def _highlight(self, plan: Plan, targets: TargetGraph) -> None:
        for item in plan.pipelines:
            node_id = f"pipeline_{item.pipeline.dir_name}"
            (self.rebuild if item.action.builds_image else self.register).add(node_id)
            if item.reason.path:
                start = self._node_for(item.reason.path[0], targets)
                if start is not None:
                    self.changed.add(start.id)

    def affected_only(self, plan: Plan, targets: TargetGraph) -> PipelineGraph:
        """The nodes on the plan's reason paths (changed node → … → pipeline) and the edges among them."""
        keep = set(self.rebuild | self.register | self.changed)
        for item in plan.pipelines:
            for address in item.reason.path:
                node = self._node_for(address, targets)
                if node is not None:
                    keep.add(node.id)
        return PipelineGraph(
            nodes={node_id: node for node_id, node in self.nodes.items() if node_id in keep},
            edges={(source, target) for source, target in self.edges if source in keep and target in keep},
            rebuild=set(self.rebuild),
            register=set(self.register),
            changed=set(self.changed),
        )

    def to_mermaid(self) -> str:
        lines = ["flowchart LR"]
        for kind in Kind:
            members = self._members(kind)
            if not members:
                continue
            lines.append(f'  subgraph {kind.name.lower()}["{kind.value}"]')
            lines.extend(f'    {node.id}["{node.label}"]' for node in members)
            lines.append("  end")
        lines.extend(f"  {source} --> {target}" for source, target in sorted(self.edges))
        styles = (
            ("rebuild", "fill:#ffd6d6,stroke:#c00,stroke-width:2px", self.rebuild),
            ("register", "fill:#fff3c4,stroke:#b80,stroke-width:2px", self.register),
            ("changed", "fill:#d6e4ff,stroke:#03c,stroke-width:3px", self.changed),
        )
        for name, style, highlighted in styles:
            if highlighted:
                lines.append(f"  classDef {name} {style}")
                lines.append(f"  class {','.join(sorted(highlighted))} {name}")
        return "\n".join(lines) + "\n"

    def to_dot(self) -> str:
        lines = ["digraph pipelines {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
        for kind in Kind:
            members = self._members(kind)
            if not members:
                continue
            lines.append(f"  subgraph cluster_{kind.name.lower()} {{")
            lines.append(f'    label="{kind.value}";')
            for node in members:
                lines.append(f'    {node.id} [label="{node.label}"{self._dot_style(node.id)}];')
            lines.append("  }")
        lines.extend(f"  {source} -> {target};" for source, target in sorted(self.edges))
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _dot_style(self, node_id: str) -> str:
        if node_id in self.changed:
            return ', style=filled, fillcolor="#d6e4ff", penwidth=3'
        if node_id in self.rebuild:
            return ', style=filled, fillcolor="#ffd6d6"'
        if node_id in self.register:
            return ', style=filled, fillcolor="#fff3c4"'
        return ""

    def _members(self, kind: Kind) -> list[Node]:
        return sorted(
            (node for node in self.nodes.values() if node.kind is kind), key=lambda node: node.label
        )

    def neighbours(self, node_id: str) -> set[str]:
        return {target for source, target in self.edges if source == node_id}


def _ignored(address: str, targets: TargetGraph) -> bool:
    target = targets.targets.get(address)
    if target is not None and target.target_type in TEST_TYPES:
        return True
    return address.endswith(("_test.py", ":tests")) or "conftest" in address


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def render(graph: PipelineGraph, fmt: str) -> str:
    if fmt == "mermaid":
        return graph.to_mermaid()
    if fmt == "dot":
        return graph.to_dot()
    raise ValueError(f"unknown graph format {fmt!r}: use mermaid or dot")


def formats() -> Iterable[str]:
    return ("mermaid", "dot")
