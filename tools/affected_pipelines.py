"""Which pipelines and deployments a change rebuilds and deploys; the pipeline-level graph (docs/grafo.md).

    ./pants run tools/affected_pipelines.py -- --since origin/master
    ./pants run tools/affected_pipelines.py -- --files pipelines/common/lake.py --graph mermaid
    ./pants run tools/affected_pipelines.py -- --graph dot --output grafo.dot

The plan is the one the deploy tool's --dry-run prints (same code).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from pipeline_platform.affected import plan_for_files, plan_since
from pipeline_platform.graph import PipelineGraph, formats, render
from pipeline_platform.image_refs import image_tag, registry
from pipeline_platform.pants import PantsError, peek_all
from pipeline_platform.planning import plan_json, plan_report
from pipeline_platform.repo import GitError, default_base_revision, resolve_revision
from pipeline_platform.repo_root import find_repo_root
from pipeline_platform.spec import load_specs
from pipeline_platform.summary import append_step_summary, show, terminal_width
from pipelines.common.naming import ENVIRONMENTS


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="affected_pipelines.py", description=__doc__.splitlines()[0])
    change = parser.add_mutually_exclusive_group()
    change.add_argument(
        "--since", metavar="REV", help="changes since REV (default: the merge base with master)"
    )
    change.add_argument("--files", nargs="+", metavar="FILE", help="if these files changed")
    parser.add_argument(
        "--environment", choices=ENVIRONMENTS, help="list only this environment's deployments"
    )
    parser.add_argument("--graph", choices=list(formats()), help="also print the pipeline-level graph")
    parser.add_argument(
        "--graph-scope",
        choices=("all", "affected"),
        default="all",
        help="the whole graph, or only the changed nodes and the pipelines they reach",
    )
    parser.add_argument("--output", type=Path, help="write the graph to this file instead of stdout")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON instead of a table")
    args = parser.parse_args(argv)
    if args.json and args.graph and not args.output:
        parser.error("--json with --graph needs --output for the graph (stdout carries the JSON)")
    # The plan goes to stderr when stdout carries the graph or the JSON.
    console = Console(
        stderr=args.json or (args.graph is not None and args.output is None),
        soft_wrap=True,
        width=terminal_width(),
    )
    try:
        repo = find_repo_root()
        whole = peek_all(repo) if args.files or args.graph else None
        if args.files:
            plan = plan_for_files(repo, args.files, graph=whole)
        else:
            since = resolve_revision(repo, args.since) if args.since else default_base_revision(repo)
            plan = plan_since(
                repo, since, f"changes since {args.since or since[:12] + ' (merge base with master)'}"
            )
    except (GitError, PantsError) as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
        return 2
    specs, _ = load_specs(repo, plan.names())
    if args.json:
        print(json.dumps(plan_json(plan, specs, args.environment, image_tag(repo), registry()), indent=2))
    else:
        show(console, plan_report(plan, specs, args.environment, image_tag(repo), registry()))
    if args.graph and whole is not None:
        graph = PipelineGraph.from_targets(whole, plan)
        if args.graph_scope == "affected":
            graph = graph.affected_only(plan, whole)
        text = render(graph, args.graph)
        if args.output:
            args.output.write_text(text)
            console.print(f"Graph ({args.graph}, {len(graph.nodes)} nodes) written to {args.output}")
        else:
            sys.stdout.write(text)
        if args.graph == "mermaid":
            append_step_summary(f"### Pipeline graph\n\n```mermaid\n{text}```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
