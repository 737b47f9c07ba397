"""`./pants lint` fails on broken conventions, naming the file and the reason: broken examples in a copy
of the repository, checked by one nested Pants run of the two linters of pants-plugins/pipeline_lint.

The rules themselves are tested one by one, fast, beside the checker (tools/pipeline_conventions).
This proves that the lint goal runs them, and the visibility rules of pipelines/BUILD, only Pants checks.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from repo_testing.workspace import commit_all, copy_repo, pants

# Assembled at run time, so this file holds no secret for the repository's own scan.
PRIVATE_KEY = (
    "-----BEGIN " + "PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END " + "PRIVATE KEY-----\n"
)
GOOD = "pipelines/rj_smtr__gps_brt"
RAISING_FLOW = '''"""A flow whose module exits while Prefect reads its signature (it runs class bodies)."""

import sys

from prefect import flow


class Buckets:
    if True:
        sys.exit(3)


@flow(name="rj_smtr__classe_quebrada")
def rj_smtr__classe_quebrada(buckets: Buckets | None = None) -> None:
    """Does nothing."""
'''


@pytest.fixture(scope="module")
def lint_output(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    # One pipeline importing another.
    (repo / GOOD / "borrowed.py").write_text(
        "from pipelines.rj_cor__alertario_precipitacao.tasks import DATASET_ID\n\nOTHER = DATASET_ID\n"
    )
    # A directory that is not rj_<secretaria>__<pipeline>, and a pipeline missing its files.
    (repo / "pipelines/rj_SMTR__Onibus").mkdir()
    (repo / "pipelines/rj_SMTR__Onibus/flow.py").write_text('"""Flow."""\n')
    (repo / "pipelines/rj_smtr__sem_arquivos").mkdir()
    (repo / "pipelines/rj_smtr__sem_arquivos/flow.py").write_text('"""Flow."""\n')
    # A typo in a prefect.yaml (Prefect itself would ignore the key and deploy without job variables).
    deployments = repo / "pipelines/rj_cor__alertario_precipitacao/prefect.yaml"
    deployments.write_text(deployments.read_text().replace("job_variables:", "job_variable:", 1))
    # A pipeline that cannot be read at all, and one whose flow crashed the old checker (and the whole run).
    unreadable, crashing = repo / "pipelines/rj_smtr__ilegivel", repo / "pipelines/rj_smtr__classe_quebrada"
    for directory in (unreadable, crashing):
        directory.mkdir()
        (directory / "BUILD").write_text("# No targets: the linters read the files themselves.\n")
        shutil.copy(repo / GOOD / "Dockerfile", directory / "Dockerfile")
    (unreadable / "flow.py").write_text('"""Flow."""\n')
    (unreadable / "prefect.yaml").write_bytes(b"\x00\xff\xfe not text")
    (crashing / "flow.py").write_text(RAISING_FLOW)
    (crashing / "prefect.yaml").write_text(
        (repo / GOOD / "prefect.yaml")
        .read_text()
        .replace("rj_smtr__gps_brt", "rj_smtr__classe_quebrada")
        .replace("rj-smtr--gps-brt", "rj-smtr--classe-quebrada")
    )
    # A service-account key committed by mistake.
    account = {"type": "service_account", "private_key": PRIVATE_KEY}
    (repo / GOOD / "service-account.json").write_text(json.dumps(account, indent=2))
    commit_all(repo, "broken examples")
    return pants(repo, "lint", "--only=pipeline-conventions", "--only=detect-secrets", "::")


def test_lint_fails(lint_output: subprocess.CompletedProcess[str]) -> None:
    assert lint_output.returncode != 0
    assert "✕ pipeline-conventions failed." in lint_output.stderr
    assert "✕ detect-secrets failed." in lint_output.stderr


def test_badly_named_directory_is_reported(lint_output: subprocess.CompletedProcess[str]) -> None:
    assert "pipelines/rj_SMTR__Onibus/: 'rj_SMTR__Onibus' is not a valid pipeline directory name" in (
        lint_output.stderr
    )


@pytest.mark.parametrize("missing", ["BUILD", "Dockerfile", "prefect.yaml"])
def test_missing_files_are_reported(lint_output: subprocess.CompletedProcess[str], missing: str) -> None:
    assert f"pipelines/rj_smtr__sem_arquivos/{missing}: missing" in lint_output.stderr


def test_pipeline_importing_another_is_reported(lint_output: subprocess.CompletedProcess[str]) -> None:
    output = lint_output.stderr
    assert "Imports that break pipelines/BUILD's visibility rules" in output
    assert f"{GOOD}/borrowed.py:src" in output
    assert "pipelines/rj_cor__alertario_precipitacao/tasks.py:src" in output
    assert "DENY" in output


def test_prefect_yaml_typo_is_reported(lint_output: subprocess.CompletedProcess[str]) -> None:
    assert re.search(
        r"^pipelines/rj_cor__alertario_precipitacao/prefect.yaml:\d+: "
        r"deployments\[0\].work_pool.job_variable: "
        r"unknown key 'job_variable' \(did you mean 'job_variables'\?\)$",
        lint_output.stderr,
        re.MULTILINE,
    )


def test_unreadable_and_crashing_pipelines_are_reported_beside_the_others(
    lint_output: subprocess.CompletedProcess[str],
) -> None:
    output = lint_output.stderr
    assert "pipelines/rj_smtr__ilegivel/prefect.yaml:1: is not a text file (it holds NUL bytes)" in output
    assert re.search(
        r"^pipelines/rj_smtr__classe_quebrada/flow.py:\d+: Prefect cannot read the parameters of flow",
        output,
        re.MULTILINE,
    )
    assert "Traceback" not in output


def test_committed_key_is_reported(lint_output: subprocess.CompletedProcess[str]) -> None:
    assert f"{GOOD}/service-account.json:3: possible secret (Private Key)" in lint_output.stderr


def test_good_pipelines_are_not_reported(lint_output: subprocess.CompletedProcess[str]) -> None:
    for line in lint_output.stderr.splitlines():
        assert not line.startswith("pipelines/rj_segovi__dump_db_1746"), line
