from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.common.settings import LAKE_URI_ENV, LOCAL_DATA_DIR_ENV, default_lake_uri, local_data_dir


def test_defaults_are_under_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LAKE_URI_ENV, raising=False)
    monkeypatch.delenv(LOCAL_DATA_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert local_data_dir() == tmp_path.resolve() / "data"
    assert default_lake_uri() == str(tmp_path.resolve() / "data" / "lake")


def test_environment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOCAL_DATA_DIR_ENV, str(tmp_path / "local"))
    monkeypatch.delenv(LAKE_URI_ENV, raising=False)
    assert default_lake_uri() == str(tmp_path / "local" / "lake")
    monkeypatch.setenv(LAKE_URI_ENV, "gs://bucket/prefix")
    assert default_lake_uri() == "gs://bucket/prefix"
