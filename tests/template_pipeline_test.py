"""Pipelines rendered from templates/, untouched, pass lint, check, test and package in a copy of the repo.

Both kinds (`api` and `dump_db`) are rendered into one copy, so each goal is one nested Pants run over both.
Slow (nested Pants runs, two image builds). Needs Docker and the OS image (OS_IMAGE, see
docs/imagem-base.md); skipped without them, except in CI where that is a failure.
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
from repo_testing.ci import skip_or_fail
from repo_testing.workspace import REPO_ROOT, commit_all, copy_repo, pants

# The longest name the template accepts (its deployment names stay within 63 characters): the generated code
# must still be formatted and linted clean.
SECRETARIA = "smtr"
PIPELINE = "captura_de_teste_do_template_com_nome_longo_x"
NAME = PipelineName(SECRETARIA, PIPELINE)
# The dump_db kind, with three tables and digits in its name.
DUMP = PipelineName("segovi", "dump_db_1746_teste")
DUMP_TABLES = "chamado,pessoa,origem_ocorrencia"
NAMES = (NAME, DUMP)
# Images built here get their own tag, so the developer's `local` images are left alone.
IMAGE_TAG = "template-test"


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
    cookiecutter(
        str(REPO_ROOT / "templates"),
        no_input=True,
        extra_context={
            "kind": "dump_db",
            "secretaria": DUMP.secretaria,
            "pipeline": DUMP.pipeline,
            "tables": DUMP_TABLES,
            "work_pool": "datario-pool",
        },
        output_dir=str(repo / "pipelines"),
    )
    commit_all(repo, "new pipelines from the template")
    yield repo
    for name in NAMES:
        subprocess.run(
            ["docker", "image", "rm", "--force", f"{name.image_name}:{IMAGE_TAG}"], capture_output=True
        )


def run_goal(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = pants(repo, *args, env={"IMAGE_TAG": IMAGE_TAG})
    assert result.returncode == 0, f"./pants {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_name_fits_the_template_length_limit() -> None:
    assert len(NAME.deployment_name("staging")) == 63


def targets(suffix: str) -> list[str]:
    return [f"pipelines/{name.dir_name}{suffix}" for name in NAMES]


def test_new_pipelines_are_lint_clean(repo: Path) -> None:
    result = run_goal(repo, "lint", *targets("::"))
    for linter in ("black", "ruff", "pipeline-conventions", "detect-secrets"):
        assert f"✓ {linter} succeeded." in result.stderr


def test_new_pipelines_type_check(repo: Path) -> None:
    result = run_goal(repo, "check", *targets("::"))
    assert "✓ mypy succeeded." in result.stderr


def test_new_pipelines_tests_pass_including_inside_their_images(repo: Path) -> None:
    result = run_goal(repo, "test", *targets("::"))
    for name in NAMES:
        assert f"✓ pipelines/{name.dir_name}/flow_test.py:tests succeeded" in result.stderr
        assert f"✓ pipelines/{name.dir_name}/image_test.py:tests succeeded" in result.stderr


def test_new_pipeline_images_are_packaged(repo: Path) -> None:
    run_goal(repo, "package", *targets(":image"))

    for name in NAMES:
        inspected = subprocess.run(
            ["docker", "image", "inspect", f"{name.image_name}:{IMAGE_TAG}"],
            capture_output=True,
            text=True,
            check=True,
        )
        config = json.loads(inspected.stdout)[0]["Config"]
        assert config["Cmd"] == ["python", "-m", f"pipelines.{name.dir_name}.flow"]
