from pathlib import Path

from pipelines.common.image_testing import built_image, run_flow_in_container
from pipelines.common.lake import Lake

PIPELINE = "{{ cookiecutter.__pipeline_dir }}"
{% set tables = cookiecutter.tables.split(",") | map("trim") | reject("equalto", "") | list -%}
TABLES = [{% for table in tables %}"{{ table }}"{{ ", " if not loop.last }}{% endfor %}]


def test_flow_dumps_the_sample_tables_inside_its_image(tmp_path: Path) -> None:
    run = run_flow_in_container(built_image(PIPELINE), PIPELINE, tmp_path / "lake")

    assert run.exit_code == 0, run.output
    lake = Lake.from_uri(str(tmp_path / "lake"))
    for table in TABLES:
        assert f"row(s) of {table} written to /lake/brutos_{{ cookiecutter.secretaria }}/{table}" in run.output
        assert lake.read_table(f"brutos_{{ cookiecutter.secretaria }}/{table}").num_rows > 0
