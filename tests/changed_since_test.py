"""`--changed-since` sees changes to the shared library and to individual pins, and nothing more."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from repo_testing.workspace import commit_all, copy_repo, git, pants

# `list` needs no lockfile; skipping its derivation keeps a pin change from triggering a resolve.
NO_LOCKFILE = {"PANTS_LAUNCHER_SKIP_LOCKFILE": "1"}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("repo"))


@pytest.fixture
def clean_repo(repo: Path) -> Iterator[Path]:
    head = git(repo, "rev-parse", "HEAD").strip()
    yield repo
    git(repo, "reset", "-q", "--hard", head)


def affected(repo: Path) -> set[str]:
    result = pants(repo, "--changed-since=HEAD~1", "--changed-dependents=transitive", "list", env=NO_LOCKFILE)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def bump_pin(repo: Path, distribution: str) -> None:
    """Moves `distribution`'s pin to another version in constraints.txt and in every pin file holding it."""
    pattern = re.compile(rf"^(#   )?{re.escape(distribution)}(\[[^\]]*\])?==(\S+)$", re.M)
    touched = 0
    for path in [repo / "3rdparty/python/constraints.txt", *(repo / "3rdparty/python/pins").glob("*.txt")]:
        text, count = pattern.subn(lambda m: f"{m[0]}.post1", path.read_text())
        path.write_text(text)
        touched += count
    assert touched >= 2, f"{distribution} is not pinned"


def test_shared_module_change_marks_its_importers_only(clean_repo: Path) -> None:
    naming = clean_repo / "pipelines/common/naming.py"
    naming.write_text(naming.read_text() + "\n")
    commit_all(clean_repo, "touch naming")

    changed = affected(clean_repo)

    assert "pipelines/common/naming.py" in changed
    assert "pipelines/common/naming_test.py:tests" in changed
    assert not any(address.startswith("3rdparty/") for address in changed)
    assert "pipelines/common/lake.py" not in changed


def pipelines_in(addresses: set[str]) -> set[str]:
    return {a.split("/")[1].split(":")[0] for a in addresses if a.startswith("pipelines/rj_")}


def images_in(addresses: set[str]) -> set[str]:
    return {a for a in addresses if a.endswith(":image") or a == "//:base"}


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("pipelines/common/db.py", {"rj_segovi__dump_db_1746"}),
        ("pipelines/common/http.py", {"rj_smtr__gps_brt", "rj_cor__alertario_precipitacao"}),
    ],
)
def test_shared_module_change_reaches_exactly_the_pipelines_importing_it(
    clean_repo: Path, module: str, expected: set[str]
) -> None:
    path = clean_repo / module
    path.write_text(path.read_text() + "\n")
    commit_all(clean_repo, f"touch {module}")

    changed = affected(clean_repo)

    assert pipelines_in(changed) == expected
    assert images_in(changed) == {f"pipelines/{name}:image" for name in expected}


def test_root_dockerfile_change_marks_every_image(clean_repo: Path) -> None:
    dockerfile = clean_repo / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "LABEL rebuilt=yes\n")
    commit_all(clean_repo, "base image")

    every_image = {f"pipelines/{p.name}:image" for p in (clean_repo / "pipelines").glob("rj_*__*")}
    assert images_in(affected(clean_repo)) == every_image | {"//:base"}


def test_prefect_yaml_change_marks_deployments_but_not_the_image(clean_repo: Path) -> None:
    spec = clean_repo / "pipelines/rj_smtr__gps_brt/prefect.yaml"
    spec.write_text(spec.read_text().replace('cron: "* * * * *"', 'cron: "*/2 * * * *"'))
    commit_all(clean_repo, "every two minutes")

    # No image and no test: the pipeline's deployments only (the conventions lint checks the prefect.yaml and
    # the Kubernetes Job of each deployment, on the changed pipelines only).
    assert affected(clean_repo) == {"pipelines/rj_smtr__gps_brt:deployments"}


def test_pipeline_code_change_marks_that_pipeline_only(clean_repo: Path) -> None:
    tasks = clean_repo / "pipelines/rj_smtr__gps_brt/tasks.py"
    tasks.write_text(tasks.read_text() + "\n")
    commit_all(clean_repo, "touch gps_brt's tasks")

    changed = affected(clean_repo)

    # Its sources, tests and images; no other pipeline, and no test of the repository over every pipeline.
    assert {"pipelines/rj_smtr__gps_brt/tasks.py:src", "pipelines/rj_smtr__gps_brt:image"} <= changed
    assert {address for address in changed if not address.startswith("pipelines/rj_smtr__gps_brt")} == set()


def test_pin_change_marks_the_users_of_that_requirement_only(clean_repo: Path) -> None:
    bump_pin(clean_repo, "psycopg-binary")  # a transitive pin, in psycopg's closure only
    commit_all(clean_repo, "bump psycopg-binary")

    changed = affected(clean_repo)

    assert "3rdparty/python:psycopg#psycopg" in changed
    assert "3rdparty/python:prefect#prefect" not in changed
    assert "3rdparty/python:pyarrow#pyarrow" not in changed
    assert "pipelines/common/naming.py" not in changed


def test_shared_transitive_pin_marks_every_requirement_that_pulls_it(clean_repo: Path) -> None:
    bump_pin(clean_repo, "anyio")  # pulled by prefect and httpx, not by pyarrow
    commit_all(clean_repo, "bump anyio")

    changed = affected(clean_repo)

    assert {"3rdparty/python:prefect#prefect", "3rdparty/python:httpx#httpx"} <= changed
    assert "3rdparty/python:pyarrow#pyarrow" not in changed


def test_readme_change_marks_nothing(clean_repo: Path) -> None:
    (clean_repo / "README.md").write_text("alterado\n")
    commit_all(clean_repo, "docs")

    assert affected(clean_repo) == set()
