from pathlib import Path

from pipelines.common.image_testing import built_image, run_flow_in_container
from pipelines.common.lake import Lake
from pipelines.{{ cookiecutter.__pipeline_dir }}.tasks import RAW_TABLE_DIR

PIPELINE = "{{ cookiecutter.__pipeline_dir }}"


def test_flow_captures_the_sample_records_inside_its_image(tmp_path: Path) -> None:
    run = run_flow_in_container(built_image(PIPELINE), PIPELINE, tmp_path / "lake")

    assert run.exit_code == 0, run.output
    lake = Lake.from_uri(str(tmp_path / "lake"))
    files = lake.list_files(RAW_TABLE_DIR, recursive=True)
    assert files and all("/data_particao=" in path and path.endswith(".parquet") for path in files)
    assert lake.read_table(RAW_TABLE_DIR).num_rows > 0
