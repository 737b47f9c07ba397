"""The generated pipelines follow the template as it is: a template change that the generator no longer fits
fails here, not in a benchmark run."""

from __future__ import annotations

import ast
from pathlib import Path

from benchmarks.generate_monorepo import pipeline_plan, render


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


def test_dump_style_pipelines_read_a_database_and_api_style_ones_keep_the_templates_http(
    tmp_path: Path,
) -> None:
    (tmp_path / "pipelines").mkdir()
    plan = pipeline_plan(5)
    assert {style for _, _, style, _ in plan} == {"dump", "api"}
    assert any(uses_tenacity for *_, uses_tenacity in plan)

    for secretaria, pipeline, style, uses_tenacity in plan:
        generated = render(tmp_path, secretaria, pipeline, style, uses_tenacity)
        tasks = tmp_path / "pipelines" / generated.dir_name / "tasks.py"
        modules = imported_modules(tasks)
        test_modules = imported_modules(tasks.with_name("flow_test.py"))
        if style == "dump":
            assert "pipelines.common.db" in modules and "pipelines.common.http" not in modules, tasks
            # the test catches the SourceError that this tasks.py defines and raises
            assert f"pipelines.{generated.dir_name}.tasks" in test_modules
            assert "pipelines.common.http" not in test_modules
        else:
            assert "pipelines.common.http" in modules and "pipelines.common.db" not in modules, tasks
        assert ("import tenacity" in tasks.read_text()) == uses_tenacity
