"""A pipeline rendered from templates/, untouched, passes lint, check, test and package in a copy of the repo.

Slow (nested Pants runs, an image build): one rendering, one nested Pants run per goal. Needs Docker and the
OS image (OS_IMAGE, see docs/imagem-base.md); skipped without them, except in CI where that is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from pipelines.common.naming import PipelineName
from tests.workspace import REPO_ROOT, commit_all, copy_repo, pants

# The longest name the template accepts (its deployment names stay within 63 characters): the generated code
# must still be formatted and linted clean.
SECRETARIA = "smtr"
PIPELINE = "captura_de_teste_do_template_com_nome_longo_x"
NAME = PipelineName(SECRETARIA, PIPELINE)
# Images built here get their own tag, so the developer's `local` images are left alone.
IMAGE_TAG = "template-test"


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not os.environ.get("OS_IMAGE"):
        skip_or_fail(
            "OS_IMAGE is not set: build the offline OS image and export OS_IMAGE (docs/imagem-base.md)"
        )
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        skip_or_fail("no Docker engine (build-support/docker/start-dockerd.sh)")
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    cookiecutter(
        str(REPO_ROOT / "templates"),
        no_input=True,
        extra_context={
            "secretaria": SECRETARIA,
            "pipeline": PIPELINE,
            "description": "Pipeline gerada pelo teste do template: captura de uma API para o data lake.",
            "work_pool": "default-pool",
            "schedule": "*/10 * * * *",
        },
        output_dir=str(repo / "pipelines"),
    )
    commit_all(repo, "new pipeline from the template")
    yield repo
    subprocess.run(
        ["docker", "image", "rm", "--force", f"{NAME.image_name}:{IMAGE_TAG}"], capture_output=True
    )


def run_goal(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = pants(repo, *args, env={"IMAGE_TAG": IMAGE_TAG})
    assert result.returncode == 0, f"./pants {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_name_fits_the_template_length_limit() -> None:
    assert len(NAME.deployment_name("staging")) == 63


def test_new_pipeline_is_lint_clean(repo: Path) -> None:
    result = run_goal(repo, "lint", f"pipelines/{NAME.dir_name}::")
    for linter in ("black", "ruff", "pipeline-conventions", "detect-secrets"):
        assert f"✓ {linter} succeeded." in result.stderr


def test_new_pipeline_type_checks(repo: Path) -> None:
    result = run_goal(repo, "check", f"pipelines/{NAME.dir_name}::")
    assert "✓ mypy succeeded." in result.stderr


def test_new_pipeline_tests_pass_including_inside_its_image(repo: Path) -> None:
    result = run_goal(repo, "test", f"pipelines/{NAME.dir_name}::")
    assert f"✓ pipelines/{NAME.dir_name}/flow_test.py:tests succeeded" in result.stderr
    assert f"✓ pipelines/{NAME.dir_name}/image_test.py:tests succeeded" in result.stderr


def test_new_pipeline_image_is_packaged(repo: Path) -> None:
    run_goal(repo, "package", f"pipelines/{NAME.dir_name}:image")

    inspected = subprocess.run(
        ["docker", "image", "inspect", f"{NAME.image_name}:{IMAGE_TAG}"],
        capture_output=True,
        text=True,
        check=True,
    )
    config = json.loads(inspected.stdout)[0]["Config"]
    assert config["Cmd"] == ["python", "-m", f"pipelines.{NAME.dir_name}.flow"]
