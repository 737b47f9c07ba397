from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.fleet_rebuild import neighbour_version, pinned_version, set_pin

AVAILABLE = ["3.9.1", "3.9.0", "3.8.8", "3.0.0", "2.20.27"]


def test_the_neighbour_is_the_release_before_the_pin_within_its_major() -> None:
    assert neighbour_version("3.9.1", AVAILABLE) == "3.9.0"
    assert neighbour_version("3.9.0", AVAILABLE) == "3.8.8"
    # The oldest of its major: the next one up, never another major.
    assert neighbour_version("3.0.0", AVAILABLE) == "3.8.8"
    with pytest.raises(SystemExit, match="no Prefect release next to 3.7.0"):
        neighbour_version("3.7.0", AVAILABLE)


def test_set_pin_moves_the_pin_and_the_pins_files_comments_only(tmp_path: Path) -> None:
    python = tmp_path / "3rdparty/python"
    (python / "pins").mkdir(parents=True)
    (python / "constraints.txt").write_text("prefect==3.9.1\nprefect-docker==0.7.4\n")
    (python / "pins/prefect.txt").write_text("# Direct requirement: prefect<4,>=3.9\nprefect==3.9.1\n")
    (python / "pins/prefect-docker.txt").write_text("prefect-docker==0.7.4\n#   prefect==3.9.1\n")
    set_pin(tmp_path, "prefect", "3.9.0")
    assert (python / "constraints.txt").read_text() == "prefect==3.9.0\nprefect-docker==0.7.4\n"
    assert (python / "pins/prefect.txt").read_text().endswith("\nprefect==3.9.0\n")
    assert (python / "pins/prefect-docker.txt").read_text() == "prefect-docker==0.7.4\n#   prefect==3.9.0\n"
    assert pinned_version(tmp_path, "prefect") == "3.9.0"
