from pathlib import Path

from pipelines.common.image_testing import built_image, run_flow_in_container
from pipelines.common.lake import Lake
from pipelines.rj_segovi__dump_db_1746.tasks import DEFAULT_DATASET_ID

PIPELINE = "rj_segovi__dump_db_1746"


def test_flow_dumps_the_sample_database_inside_its_image(tmp_path: Path) -> None:
    run = run_flow_in_container(built_image(PIPELINE), PIPELINE, tmp_path / "lake")

    assert run.exit_code == 0, run.output
    assert "row(s) of chamado written to /lake/" in run.output
    lake = Lake.from_uri(str(tmp_path / "lake"))
    files = lake.list_files(f"{DEFAULT_DATASET_ID}/chamado", recursive=True)
    assert files and all("/ano_particao=" in path and path.endswith(".parquet") for path in files)
    assert lake.read_table(f"{DEFAULT_DATASET_ID}/chamado").num_rows > 0
