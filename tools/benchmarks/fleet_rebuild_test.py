from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.fleet_rebuild import neighbour_version, pin_requirement, pinned_version

AVAILABLE = ["3.9.1", "3.9.0", "3.8.8", "3.0.0", "2.20.27"]


def test_the_neighbour_is_the_release_before_the_pin_within_its_major() -> None:
    assert neighbour_version("3.9.1", AVAILABLE) == "3.9.0"
    assert neighbour_version("3.9.0", AVAILABLE) == "3.8.8"
    # The oldest of its major: the next one up, never another major.
    assert neighbour_version("3.0.0", AVAILABLE) == "3.8.8"
    with pytest.raises(SystemExit, match="no Prefect release next to 3.7.0"):
        neighbour_version("3.7.0", AVAILABLE)


def test_pin_requirement_pins_only_that_requirement_whatever_its_range() -> None:
    requirements = "# comment: prefect\nprefect>=3.9,<4\nprefect-docker>=0.7,<0.8\nrich\n"
    assert pin_requirement(requirements, "prefect", "3.9.0") == (
        "# comment: prefect\nprefect==3.9.0\nprefect-docker>=0.7,<0.8\nrich\n"
    )
    assert pin_requirement(requirements, "rich", "15.0.0").endswith("\nrich==15.0.0\n")
    with pytest.raises(SystemExit, match="names no httpx"):
        pin_requirement(requirements, "httpx", "1.0")


def test_pinned_version_reads_the_constraints(tmp_path: Path) -> None:
    python = tmp_path / "3rdparty/python"
    python.mkdir(parents=True)
    (python / "constraints.txt").write_text("prefect==3.9.1\nprefect-docker==0.7.4\n")
    assert pinned_version(tmp_path, "prefect") == "3.9.1"
