import pytest

from pipelines.common.naming import NamingError, PipelineName


def test_deployment_name_uses_dashes() -> None:
    name = PipelineName.from_dir("rj_segovi__dump_db_1746")
    assert name.deployment_name("prod") == "rj-segovi--dump-db-1746--prod"
    assert name.deployment_name("staging") == "rj-segovi--dump-db-1746--staging"
    assert name.dir_name == "rj_segovi__dump_db_1746"


@pytest.mark.parametrize(
    ("directory", "deployment"),
    [("rj_sec__1746_tickets", "rj-sec--1746-tickets--prod"), ("rj_segovi__1746", "rj-segovi--1746--prod")],
)
def test_a_pipeline_part_may_start_with_a_digit(directory: str, deployment: str) -> None:
    name = PipelineName.from_dir(directory)
    assert name.dir_name == directory
    assert name.deployment_name("prod") == deployment


@pytest.mark.parametrize(
    "bad",
    [
        "rj_Segovi__x",
        "rj_segovi_x",
        "rj_seg ovi__x",
        "rj_1seg__x",
        "rj_são__x",
        "x__y",
        "rj_sec___1",
        "rj_sec__1_",
    ],
)
def test_invalid_dir_names_are_rejected(bad: str) -> None:
    with pytest.raises(NamingError, match="rj_<secretaria>__<pipeline>"):
        PipelineName.from_dir(bad)


def test_unknown_environment_is_rejected() -> None:
    with pytest.raises(NamingError, match="prod, staging"):
        PipelineName("cor", "alertario").deployment_name("dev")
