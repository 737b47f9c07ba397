"""Requirements the importer adds: listed in 3rdparty/python/BUILD, with a module mapping when the import name
is not the one Pants guesses from the distribution's name (discord-py provides ``discord``, not
``discord_py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from pipeline_import.import_check import check_imports
from pipeline_import.imported import Imported
from pipeline_import.module_names import distributions_of
from pipeline_import.requirements import Requirements
from pipelines.common.naming import PipelineName

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
        Requirement("opencv-python-headless>=4.10"),
        Requirement("google-cloud-core>=2"),
    ]
    requirements.write()
    assert evaluated(here / "BUILD") == {
        "prefect": {},
        "google-auth": {"google-auth": ["google.auth", "google.oauth2"]},
        "discord-py": {"discord-py": ["discord"]},
        "dbt-core": {"dbt-core": ["dbt"]},
        "lxml": {},
        "opencv-python-headless": {"opencv-python-headless": ["cv2"]},
        "google-cloud-core": {"google-cloud-core": ["google.cloud.exceptions"]},
    }
    assert (
        (here / "requirements.txt")
        .read_text()
        .endswith(
            "# Imported pipelines (tools/import_pipeline.py)\ndiscord.py>=2.5\ndbt-core>=1.8\nlxml>=5\n"
            "opencv-python-headless>=4.10\ngoogle-cloud-core>=2\n"
        )
    )


def test_a_module_of_a_dependency_of_an_added_requirement_becomes_a_requirement(tmp_path: Path) -> None:
    here = tmp_path / "3rdparty" / "python"
    here.mkdir(parents=True)
    (here / "requirements.txt").write_text("prefect>=3\n")
    requirements = Requirements.read(tmp_path)
    requirements.added = [Requirement("langchain>=0.3"), Requirement("opencv-python-headless>=4.10")]
    imported = Imported(source=tmp_path, name="rj_x__y", kind="code")

    assert distributions_of("cv2") & requirements.names()
    assert requirements.bring(distributions_of("langchain_core.messages"), imported, "rj_x__y/history.py:9")
    assert "langchain-core" in requirements.names()
    assert not requirements.bring(distributions_of("pandas_read_xml"), imported, "rj_x__y/tasks.py:10")
    assert {(note.where, note.todo) for note in imported.notes} == {("rj_x__y/history.py:9", False)}


def test_a_package_that_only_installs_another_is_replaced_by_it(tmp_path: Path) -> None:
    here = tmp_path / "3rdparty" / "python"
    here.mkdir(parents=True)
    (here / "requirements.txt").write_text("prefect>=3\n")
    requirements = Requirements.read(tmp_path)
    imported = Imported(source=tmp_path, name="rj_x__y", kind="code")

    requirements.consider(Requirement("beautifulsoup4>=4.12"), imported, "rj_x__y/pyproject.toml:8")
    requirements.consider(Requirement("bs4==0.0.2"), imported, "rj_x__y/pyproject.toml:9")

    assert [str(item) for item in requirements.added] == ["beautifulsoup4>=4.12"]
    assert not any(note.todo for note in imported.notes)


def test_an_import_no_pyproject_declares_adds_the_distribution_of_its_name_to_confirm(tmp_path: Path) -> None:
    here = tmp_path / "3rdparty" / "python"
    here.mkdir(parents=True)
    (here / "requirements.txt").write_text("prefect>=3\n")
    pipeline = PipelineName.from_dir("rj_x__y")
    target = tmp_path / "pipelines" / pipeline.dir_name
    (target / "vendor").mkdir(parents=True)
    (target / "vendor" / "helpers.py").write_text("")
    (target / "tasks.py").write_text(
        "import prefect\nimport pandas_read_xml\nimport helpers\n"
        "from google.cloud import pubsub\nimport yaml\n"
    )
    requirements = Requirements.read(tmp_path)
    imported = Imported(source=tmp_path, name=pipeline.dir_name, kind="code")

    check_imports(tmp_path, target, pipeline, requirements, imported)

    assert [str(item) for item in requirements.added] == ["pandas-read-xml", "pyyaml"]
    todo = {note.where: note.text for note in imported.notes if note.todo}
    assert set(todo) == {f"pipelines/{pipeline.dir_name}/tasks.py:{line}" for line in (2, 3, 4, 5)}
    assert (
        "pandas-read-xml (the distribution of that name) added: confirm"
        in todo[f"pipelines/{pipeline.dir_name}/tasks.py:2"]
    )
    assert (
        "no requirement provides it" in todo[f"pipelines/{pipeline.dir_name}/tasks.py:3"]
    )  # a file of the pipeline
    assert (
        "no requirement provides it" in todo[f"pipelines/{pipeline.dir_name}/tasks.py:4"]
    )  # a namespace package
    assert "pyyaml (the distribution of that name)" in todo[f"pipelines/{pipeline.dir_name}/tasks.py:5"]
