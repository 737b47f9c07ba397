"""The pipeline-level graph and the plan's reasons, computed from a target graph as Pants reports it."""

from __future__ import annotations

import json

from pipeline_platform.affected import Action, AffectedPipeline, Plan, Reason, parse_pipeline_name
from pipeline_platform.graph import PipelineGraph
from pipeline_platform.pants import TargetGraph

# The shape of `./pants peek` output (trimmed to the fields used), for two pipelines sharing a module.
PEEK = [
    {"address": "//:base", "target_type": "docker_image", "dependencies": ["//:base-deps"]},
    {
        "address": "//:base-deps",
        "target_type": "pex_binary",
        "dependencies": ["3rdparty/python:prefect#prefect"],
    },
    {"address": "3rdparty/python:prefect#prefect", "target_type": "python_requirement"},
    {"address": "3rdparty/python:pyarrow#pyarrow", "target_type": "python_requirement"},
    {
        "address": "3rdparty/python:extras",
        "target_type": "target",
        "dependencies": ["3rdparty/python:pyarrow#pyarrow"],
    },
    {
        "address": "pipelines/common/lake.py",
        "target_type": "python_source",
        "dependencies": ["3rdparty/python:extras"],
        "sources": ["pipelines/common/lake.py"],
    },
    {
        "address": "pipelines/common/lake_test.py:tests",
        "target_type": "python_test",
        "dependencies": ["pipelines/common/lake.py"],
    },
    *[
        entry
        for name in ("rj_a__um", "rj_b__dois")
        for entry in (
            {
                "address": f"pipelines/{name}:image",
                "target_type": "docker_image",
                "dependencies": ["//:base", f"pipelines/{name}:pex"],
            },
            {
                "address": f"pipelines/{name}:pex",
                "target_type": "pex_binary",
                "dependencies": [f"pipelines/{name}/flow.py:src"],
            },
            {
                "address": f"pipelines/{name}/flow.py:src",
                "target_type": "python_source",
                "dependencies": ["3rdparty/python:prefect#prefect"]
                + (["pipelines/common/lake.py"] if name == "rj_a__um" else []),
                "sources": [f"pipelines/{name}/flow.py"],
            },
            {
                "address": f"pipelines/{name}:deployments",
                "target_type": "file",
                "sources": [f"pipelines/{name}/prefect.yaml"],
            },
        )
    ],
]
TARGETS = TargetGraph.from_peek(json.dumps(PEEK))


def test_dependents_and_shortest_paths_follow_the_edges() -> None:
    affected = TARGETS.transitive_dependents(TARGETS.owners(["pipelines/common/lake.py"]))

    assert "pipelines/rj_a__um:image" in affected
    assert "pipelines/rj_b__dois:image" not in affected
    assert TARGETS.shortest_path("pipelines/rj_a__um:image", {"pipelines/common/lake.py"}) == [
        "pipelines/rj_a__um:image",
        "pipelines/rj_a__um:pex",
        "pipelines/rj_a__um/flow.py:src",
        "pipelines/common/lake.py",
    ]


def test_the_graph_collapses_pipelines_drops_tests_and_looks_through_grouping_targets() -> None:
    graph = PipelineGraph.from_targets(TARGETS)

    assert set(graph.nodes) == {
        "base_image",
        "req_prefect",
        "req_pyarrow",
        "common_lake",
        "pipeline_rj_a__um",
        "pipeline_rj_b__dois",
    }
    assert graph.neighbours("pipeline_rj_a__um") == {"base_image", "req_prefect", "common_lake"}
    assert graph.neighbours("common_lake") == {"req_pyarrow"}
    assert graph.neighbours("base_image") == {"req_prefect"}


def test_mermaid_and_dot_show_the_plan() -> None:
    path = (
        "pipelines/common/lake.py",
        "pipelines/rj_a__um/flow.py:src",
        "pipelines/rj_a__um:pex",
        "pipelines/rj_a__um:image",
    )
    plan = Plan(
        "changes to pipelines/common/lake.py",
        (
            AffectedPipeline(
                parse_pipeline_name("rj-a--um"), Action.BUILD_AND_REGISTER, Reason(path[0], path)
            ),
        ),
    )
    graph = PipelineGraph.from_targets(TARGETS, plan)

    mermaid = graph.to_mermaid()
    assert mermaid.startswith("flowchart LR\n")
    assert '    pipeline_rj_a__um["rj_a__um"]' in mermaid
    assert "  pipeline_rj_a__um --> common_lake" in mermaid
    assert "  class pipeline_rj_a__um rebuild" in mermaid
    assert "  class common_lake changed" in mermaid
    dot = graph.to_dot()
    assert dot.startswith("digraph pipelines {")
    assert "  pipeline_rj_a__um -> common_lake;" in dot
    assert 'common_lake [label="common/lake.py", style=filled' in dot
    assert str(plan.pipelines[0].reason) == " → ".join(path)

    small = graph.affected_only(plan, TARGETS)
    assert set(small.nodes) == {"common_lake", "pipeline_rj_a__um"}
    assert small.edges == {("pipeline_rj_a__um", "common_lake")}
