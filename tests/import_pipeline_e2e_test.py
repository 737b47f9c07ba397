"""The importer end to end in a copy of the repository, through its command line (`./pants run`).

Two old pipelines whose imports are satisfiable here (a dump, and an API capture with a requirement this
repository does not pin yet) are imported; the pins are refreshed (pip resolves the new requirement from the
package index) and `./pants lint check test` must pass on both imported pipelines, their image tests
included. Slow: the refresh, the lockfile derived again, two image builds, one nested Pants run per step.
Needs Docker and the OS image (docs/imagem-base.md); skipped without them, except in CI where that fails.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.common.naming import PipelineName
from repo_testing import import_fixtures
from repo_testing.ci import skip_or_fail
from repo_testing.workspace import commit_all, copy_repo, pants

DUMP = "rj_smdu__dump_db_licencas"
API = "rj_cor__api_boletim"
# Images built here get their own tag, so the developer's `local` images are left alone.
IMAGE_TAG = "import-test"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        skip_or_fail("no Docker engine (build-support/docker/start-dockerd.sh)")
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    old = tmp_path_factory.mktemp("old") / "pipelines"
    old.mkdir()
    sources = [import_fixtures.dump_with_many_tables(old), import_fixtures.api_with_extra_requirements(old)]
    result = pants(repo, "run", "tools/import_pipeline.py", "--", *(str(path) for path in sources))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    commit_all(repo, "imported pipelines")
    yield repo, output
    for name in (DUMP, API):
        image = f"{PipelineName.from_dir(name).image_name}:{IMAGE_TAG}"
        subprocess.run(["docker", "image", "rm", "--force", image], capture_output=True)


def test_the_report_lists_every_imported_pipeline_with_its_time(imported: tuple[Path, str]) -> None:
    _, output = imported
    for name, kind in ((DUMP, "dump"), (API, "code")):
        assert re.search(rf"{name} -> pipelines/{name} \({kind}, \d+\.\d s\)", output), output
    assert "2 of 2 pipeline(s) imported" in output


def test_the_new_requirement_is_pinned(imported: tuple[Path, str]) -> None:
    repo, _ = imported
    pin = (repo / "3rdparty/python/pins/humanize.txt").read_text()
    assert re.search(r"^humanize==\d+\.\d+", pin, flags=re.M), pin
    assert re.search(r"^humanize==", (repo / "3rdparty/python/constraints.txt").read_text(), flags=re.M)


def test_imported_pipelines_pass_lint_check_and_test(imported: tuple[Path, str]) -> None:
    repo, _ = imported
    targets = [f"pipelines/{DUMP}::", f"pipelines/{API}::"]
    result = pants(repo, "lint", "check", "test", *targets, env={"IMAGE_TAG": IMAGE_TAG})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for tool in ("black", "ruff", "pipeline-conventions", "detect-secrets", "mypy"):
        assert f"✓ {tool} succeeded." in output
    for name in (DUMP, API):
        assert f"✓ pipelines/{name}/flow_test.py:tests succeeded" in output
        assert f"✓ pipelines/{name}/image_test.py:tests succeeded" in output
