"""Files from templates/, the one source of them (BUILD, Dockerfile, the dump's flow), and the generated
tests."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import black
from cookiecutter.exceptions import CookiecutterException, FailedHookException
from cookiecutter.main import cookiecutter

from pipeline_import.imported import UnusableInput
from pipelines.common.naming import PipelineName


def render_template(root: Path, pipeline: PipelineName, kind: str) -> Path:
    """The template rendered for this pipeline into a temporary ``pipelines/`` directory."""
    output = Path(tempfile.mkdtemp(prefix="import-template-")) / "pipelines"
    output.mkdir()
    answers = {
        "kind": "dump_db" if kind == "dump" else "api",
        "secretaria": pipeline.secretaria,
        "pipeline": pipeline.pipeline,
        "description": "Pipeline importada do repositório antigo.",
        "tables": "query",
        "work_pool": "default-pool",
        "schedule": "0 3 * * *",
    }
    try:
        created = cookiecutter(
            str(root / "templates"), no_input=True, extra_context=answers, output_dir=str(output)
        )
    except FailedHookException:
        raise UnusableInput(
            f"the template refuses the name {pipeline.dir_name!r} (see the message above): rename the "
            "directory"
        ) from None
    except CookiecutterException as error:
        raise UnusableInput(f"the template could not be rendered: {error}") from None
    return Path(created)


def smoke_test(pipeline: PipelineName, function: str, tables: Sequence[str]) -> str:
    """A first test for the imported pipeline: its flow loads (its imports resolve), its queries are read."""
    module = f"pipelines.{pipeline.dir_name}"
    lines = [
        '"""Written by tools/import_pipeline.py: the imported flow loads. Add real tests."""',
        "",
        "from prefect import Flow",
        "",
    ]
    if tables:
        lines += ["from pipelines.common.db import read_query"]
    lines += [f"from {module}.flow import {function}", ""]
    if tables:
        lines += ["", f"TABLES = {list(tables)!r}"]
    lines += ["", "", "def test_the_flow_loads() -> None:", f"    assert isinstance({function}, Flow)"]
    if tables:
        lines += [
            "",
            "",
            "def test_every_table_has_its_query() -> None:",
            "    for table in TABLES:",
            f'        assert read_query("{module}", table).strip()',
        ]
    return black.format_str("\n".join(lines) + "\n", mode=black.Mode(line_length=110))


def image_test(pipeline: PipelineName) -> str:
    """The image test every pipeline has (the BUILD macro expects it): the flow loads inside the image."""
    return black.format_str(
        f'''"""Written by tools/import_pipeline.py: the flow loads inside the pipeline's image."""

from pipelines.common.image_testing import built_image, import_in_container

PIPELINE = "{pipeline.dir_name}"


def test_the_flow_loads_inside_its_image() -> None:
    run = import_in_container(built_image(PIPELINE), f"pipelines.{{PIPELINE}}.flow")
    assert run.exit_code == 0, run.output
''',
        mode=black.Mode(line_length=110),
    )
