"""A change confined to pipeline directories is planned from their graph alone, and the plan is the one the
walk of the whole repository gives; any other change still walks the whole repository. What makes it exact,
pipelines/BUILD's rules that nothing outside a pipeline depends on it, is checked by Pants."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline_platform.affected import WHOLE_REPOSITORY, Action, plan_since, plan_since_whole_repo
from pipeline_platform.pants import PantsError, private_daemon, run_pants
from pipeline_platform.repo import changed_files
from repo_testing.workspace import copy_repo, git

GPS = "pipelines/rj_smtr__gps_brt"
DUMP = "pipelines/rj_segovi__dump_db_1746"
ALERTA = "pipelines/rj_cor__alertario_precipitacao"

Change = Callable[[Path], None]


def append(relative: str, text: str) -> Change:
    def change(repo: Path) -> None:
        path = repo / relative
        path.write_text(path.read_text() + text)

    return change


def create(relative: str, text: str) -> Change:
    def change(repo: Path) -> None:
        (repo / relative).write_text(text)

    return change


def delete(relative: str) -> Change:
    return lambda repo: (repo / relative).unlink()


def both(*changes: Change) -> Change:
    def change(repo: Path) -> None:
        for one in changes:
            one(repo)

    return change


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    copy = copy_repo(tmp_path_factory.mktemp("repo"))
    # `peek` needs no lockfile; one shared daemon starts Pants once for the dozen plans.
    with pytest.MonkeyPatch.context() as patch, private_daemon(copy):
        patch.setenv("PANTS_LAUNCHER_SKIP_LOCKFILE", "1")
        yield copy


@pytest.fixture
def clean_repo(repo: Path) -> Iterator[Path]:
    yield repo
    git(repo, "reset", "-q", "--hard", "HEAD")
    git(repo, "clean", "-q", "-fd")


@pytest.mark.parametrize(
    ("change", "scope", "expected"),
    [
        pytest.param(
            append(f"{GPS}/tasks.py", "\n# touched\n"),
            f"{GPS}::",
            {"rj_smtr__gps_brt": Action.BUILD_AND_REGISTER},
            id="one-pipelines-code",
        ),
        pytest.param(
            append(f"{DUMP}/prefect.yaml", "# schedule reviewed\n"),
            f"{DUMP}::",
            {"rj_segovi__dump_db_1746": Action.REGISTER},
            id="a-prefect-yaml",
        ),
        pytest.param(
            create(f"{ALERTA}/NOTAS.md", "Notas da equipe.\n"),
            f"{ALERTA}::",
            {},
            id="a-new-file-no-target-owns",
        ),
        pytest.param(
            both(append(f"{GPS}/tasks.py", "\n# touched\n"), append(f"{ALERTA}/flow.py", "\n# touched\n")),
            f"{ALERTA}:: {GPS}::",
            dict.fromkeys(("rj_smtr__gps_brt", "rj_cor__alertario_precipitacao"), Action.BUILD_AND_REGISTER),
            id="two-pipelines",
        ),
    ],
)
def test_a_change_inside_pipeline_dirs_gets_the_whole_repos_plan_from_their_graph(
    clean_repo: Path, change: Change, scope: str, expected: dict[str, Action]
) -> None:
    change(clean_repo)

    narrow = plan_since(clean_repo, "HEAD")
    whole = plan_since_whole_repo(clean_repo, "HEAD", changed_files(clean_repo, "HEAD"), narrow.description)

    assert narrow.scope == scope
    assert {item.pipeline.dir_name: item.action for item in narrow.pipelines} == expected
    assert whole.scope == WHOLE_REPOSITORY
    assert replace(narrow, scope=WHOLE_REPOSITORY) == whole


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            both(
                append(f"{GPS}/tasks.py", "\n# touched\n"), append("pipelines/common/db.py", "\n# touched\n")
            ),
            {"rj_smtr__gps_brt", "rj_segovi__dump_db_1746"},
            id="and-a-shared-module",
        ),
        pytest.param(append(f"{GPS}/BUILD", "\n# reviewed\n"), {"rj_smtr__gps_brt"}, id="a-pipelines-BUILD"),
        pytest.param(delete(f"{GPS}/tasks_test.py"), set(), id="a-deleted-file"),
    ],
)
def test_any_other_change_walks_the_whole_repository(
    clean_repo: Path, change: Change, expected: set[str]
) -> None:
    change(clean_repo)

    plan = plan_since(clean_repo, "HEAD")

    assert plan.scope == WHOLE_REPOSITORY
    assert set(plan.names()) == expected


@pytest.mark.parametrize(
    ("path", "source"),
    [
        pytest.param(
            "tests/borrowed_test.py", "from pipelines.rj_smtr__gps_brt import tasks\n", id="a-repo-test"
        ),
        pytest.param(
            "pipelines/common/borrowed.py", "from pipelines.rj_smtr__gps_brt import tasks\n", id="common"
        ),
        pytest.param(
            f"{ALERTA}/borrowed.py", "from pipelines.rj_smtr__gps_brt import tasks\n", id="a-pipeline"
        ),
    ],
)
def test_nothing_outside_a_pipeline_may_depend_on_it(clean_repo: Path, path: str, source: str) -> None:
    create(path, source)(clean_repo)

    with pytest.raises(PantsError) as denied:
        run_pants(clean_repo, "dependencies", path)

    assert "DependencyRuleActionDeniedError" in str(denied.value)
    assert f"{GPS}/tasks.py:src" in str(denied.value)
