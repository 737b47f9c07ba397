"""Requirements the importer adds: listed in 3rdparty/python/BUILD, with a module mapping when the import name
is not the one Pants guesses from the distribution's name (discord-py provides ``discord``, not
``discord_py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from pipeline_import.requirements import Requirements

BUILD = """\
REQUIREMENTS = [
    "prefect",
    "google-auth",
]

MODULE_MAPPING = {
    "google-auth": ["google.auth", "google.oauth2"],
}

for requirement in REQUIREMENTS:
    python_requirements(
        name=requirement,
        source=f"pins/{requirement}.txt",
        module_mapping={requirement: MODULE_MAPPING[requirement]} if requirement in MODULE_MAPPING else {},
    )
"""


def evaluated(build: Path) -> dict[str, Any]:
    """The BUILD file run as Pants runs it, its targets recorded."""
    targets: dict[str, Any] = {}

    def python_requirements(**fields: Any) -> None:
        targets[fields["name"]] = fields["module_mapping"]

    exec(build.read_text(), {"python_requirements": python_requirements})
    return targets


def test_added_requirements_are_listed_with_the_modules_they_provide(tmp_path: Path) -> None:
    here = tmp_path / "3rdparty" / "python"
    here.mkdir(parents=True)
    (here / "BUILD").write_text(BUILD)
    (here / "requirements.txt").write_text("prefect>=3\ngoogle-auth>=2\n")
    requirements = Requirements.read(tmp_path)
    requirements.added = [
        Requirement("discord.py>=2.5"),
        Requirement("dbt-core>=1.8"),
        Requirement("lxml>=5"),
    ]
    requirements.write()
    assert evaluated(here / "BUILD") == {
        "prefect": {},
        "google-auth": {"google-auth": ["google.auth", "google.oauth2"]},
        "discord-py": {"discord-py": ["discord"]},
        "dbt-core": {"dbt-core": ["dbt"]},
        "lxml": {},
    }
    assert (
        (here / "requirements.txt")
        .read_text()
        .endswith(
            "# Imported pipelines (tools/import_pipeline.py)\ndiscord.py>=2.5\ndbt-core>=1.8\nlxml>=5\n"
        )
    )
