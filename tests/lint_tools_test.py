"""`./pants lint` runs shellcheck and hadolint from this machine (no download): both find real problems in a
copy of the repository, and the committed scripts and Dockerfiles are clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from repo_testing.workspace import copy_repo, pants


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("repo"))


def lint(repo: Path, *targets: str) -> tuple[int, str]:
    result = pants(repo, "lint", "--only=shellcheck", "--only=hadolint", *targets)
    return result.returncode, result.stdout + result.stderr


def test_the_committed_scripts_and_dockerfiles_are_clean(repo: Path) -> None:
    code, output = lint(repo, "::")
    assert code == 0, output
    assert "✓ shellcheck succeeded." in output and "✓ hadolint succeeded." in output


def test_a_bad_script_and_a_bad_dockerfile_fail_with_the_linters_codes(repo: Path) -> None:
    script = repo / "build-support/ci/start-postgres.sh"
    script.write_text(script.read_text() + "\necho $pg_user\n")
    dockerfile = repo / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "\nRUN cd /tmp && true\n")

    code, output = lint(repo, "build-support/ci:scripts", "//:base")

    assert code != 0, output
    assert "SC2086" in output  # unquoted expansion
    assert "DL3003" in output  # `cd` in RUN instead of WORKDIR
