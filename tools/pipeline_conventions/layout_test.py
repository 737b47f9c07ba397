"""Broken examples for the layout rules of pipelines/: directory names and required files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_conventions.check import check_pipelines
from pipeline_conventions.layout import REQUIRED_FILES, check_layout


def make_pipeline(root: Path, name: str, files: tuple[str, ...] = REQUIRED_FILES) -> Path:
    directory = root / "pipelines" / name
    directory.mkdir(parents=True)
    for file in files:
        (directory / file).write_text("")
    return directory


@pytest.mark.parametrize(
    "name", ["rj_SMTR__gps", "rj_smtr_gps", "rj_são__gps", "rj_1smtr__gps", "rj_smtr___gps", "smtr__gps"]
)
def test_badly_named_directory_is_reported(tmp_path: Path, name: str) -> None:
    directory = make_pipeline(tmp_path, name)

    problems = check_layout(directory)

    assert [problem.path for problem in problems] == [f"{directory}/"]
    assert "rj_<secretaria>__<pipeline>" in problems[0].reason


@pytest.mark.parametrize("missing", REQUIRED_FILES)
def test_missing_required_file_is_reported(tmp_path: Path, missing: str) -> None:
    directory = make_pipeline(tmp_path, "rj_smtr__gps_brt", tuple(f for f in REQUIRED_FILES if f != missing))

    problems = check_layout(directory)

    assert [(problem.path, problem.reason.split(":")[0]) for problem in problems] == [
        (f"{directory}/{missing}", "missing")
    ]


def test_shared_library_directories_are_not_pipelines(tmp_path: Path) -> None:
    common = tmp_path / "pipelines" / "common"
    common.mkdir(parents=True)
    (common / "naming.py").write_text("")

    assert check_pipelines([common]) == []


@pytest.mark.parametrize("name", ["rj_segovi__dump_db_1746", "rj_sec__1746_tickets"])
def test_well_formed_layout_passes(tmp_path: Path, name: str) -> None:
    assert check_layout(make_pipeline(tmp_path, name)) == []
