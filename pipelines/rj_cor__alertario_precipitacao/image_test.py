from pathlib import Path

from pipelines.common.image_testing import assert_tables_written, built_image, run_flow_in_container
from pipelines.rj_cor__alertario_precipitacao.tasks import RAW_TABLE_DIR, TREATED_TABLE_DIR

PIPELINE = "rj_cor__alertario_precipitacao"


def test_flow_captures_the_sample_api_inside_its_image(tmp_path: Path) -> None:
    run = run_flow_in_container(built_image(PIPELINE), PIPELINE, tmp_path / "lake")

    assert run.exit_code == 0, run.output
    assert_tables_written(tmp_path / "lake", RAW_TABLE_DIR, TREATED_TABLE_DIR)
