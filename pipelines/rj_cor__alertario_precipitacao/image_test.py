from pathlib import Path

from pipelines.common.image_testing import built_image, run_flow_in_container
from pipelines.common.lake import Lake
from pipelines.rj_cor__alertario_precipitacao.tasks import RAW_TABLE_DIR, TREATED_TABLE_DIR

PIPELINE = "rj_cor__alertario_precipitacao"


def test_flow_captures_the_sample_api_inside_its_image(tmp_path: Path) -> None:
    run = run_flow_in_container(built_image(PIPELINE), PIPELINE, tmp_path / "lake")

    assert run.exit_code == 0, run.output
    lake = Lake.from_uri(str(tmp_path / "lake"))
    for table_dir in (RAW_TABLE_DIR, TREATED_TABLE_DIR):
        files = lake.list_files(table_dir, recursive=True)
        assert files and all("/data_particao=" in path and path.endswith(".parquet") for path in files)
        assert lake.read_table(table_dir).num_rows > 0
