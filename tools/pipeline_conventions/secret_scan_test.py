"""Broken examples for the secret scan: each kind of secret is caught, reviewed findings are not.

The fake secrets are assembled at run time, so this file itself holds none for the repository's scan.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from detect_secrets.core.secrets_collection import SecretsCollection

from pipeline_conventions.secret_scan import BASELINE_FILE, scan

REPO_BASELINE = Path(BASELINE_FILE)  # the repository's, in the sandbox through //:secrets-baseline
AWS_KEY = "AKIA" + "IOSFODNN7" + "EXAMPLE"
PRIVATE_KEY = (
    "-----BEGIN " + "PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END " + "PRIVATE KEY-----\\n"
)
KEYWORD = "pass" + "word"


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """A scratch repository: findings are reported relative to it, as in the lint sandbox."""
    (tmp_path / BASELINE_FILE).write_text(REPO_BASELINE.read_text())
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(previous)


def reasons(files: list[str]) -> list[str]:
    return [str(problem) for problem in scan(files, Path(BASELINE_FILE))]


def test_aws_access_key_in_code_is_reported_with_file_and_line(workdir: Path) -> None:
    Path("client.py").write_text(f'import os\n\nKEY_ID = "{AWS_KEY}"\n')

    found = reasons(["client.py"])

    assert len(found) == 1
    assert found[0].startswith("client.py:3: possible secret (AWS Access Key)")


def test_service_account_key_is_reported(workdir: Path) -> None:
    account = {"type": "service_account", "project_id": "rj-escritorio", "private_key": PRIVATE_KEY}
    Path("credentials.json").write_text(json.dumps(account, indent=2))

    assert any("(Private Key)" in reason for reason in reasons(["credentials.json"]))


def test_password_in_a_prefect_yaml_is_reported(workdir: Path) -> None:
    Path("prefect.yaml").write_text(f"job_variables:\n  env:\n    DB_{KEYWORD.upper()}: Hunter2-Rio-2024\n")
    Path("settings.py").write_text(f'db_{KEYWORD} = "Hunter2-Rio-2024"\n')

    found = reasons(["prefect.yaml", "settings.py"])

    assert [reason.split(": ")[0] for reason in found] == ["prefect.yaml:3", "settings.py:1"]
    assert all("Secret Keyword" in reason for reason in found)


def test_secret_name_of_the_kubernetes_secret_is_not_a_secret(workdir: Path) -> None:
    Path("prefect.yaml").write_text(
        "deployments:\n"
        "  - work_pool:\n      job_variables:\n        secretName: prefect-jobs-secrets\n"
        "  - work_pool:\n      job_variables:\n        secretName: prefect-jobs-secrets-staging\n"
    )
    Path("naming.py").write_text('ANSWERS = {"secretaria": "smtr"}\nsecretaria = "segovi"\n')

    assert reasons(["prefect.yaml", "naming.py"]) == []


def test_findings_reviewed_in_the_baseline_pass_even_after_moving(workdir: Path) -> None:
    Path("db_test.py").write_text(f'{KEYWORD} = "only-for-the-local-test-db"\n')
    baseline = json.loads(Path(BASELINE_FILE).read_text())
    assert reasons(["db_test.py"]) != []  # (also loads the baseline's settings for the scan below)
    reviewed = SecretsCollection()
    reviewed.scan_file("db_test.py")
    baseline["results"] = reviewed.json()
    Path(BASELINE_FILE).write_text(json.dumps(baseline))
    Path("db_test.py").write_text(f'"""Moved down."""\n\n{KEYWORD} = "only-for-the-local-test-db"\n')

    assert reasons(["db_test.py"]) == []


def test_missing_baseline_is_a_problem(workdir: Path) -> None:
    Path(BASELINE_FILE).unlink()

    assert reasons([]) == [
        f"{BASELINE_FILE}: missing: the secret scan needs its baseline (see docs/convencoes.md)"
    ]


def test_a_deeply_nested_yaml_file_is_scanned(workdir: Path) -> None:
    depth = 2_000  # twice libyaml's limit; detect-secrets' own YAML reader recurses ~5 frames per level
    Path("deep.yaml").write_text(
        f"db_{KEYWORD}: Hunter2-Rio-2024\nnested: " + "[" * depth + "]" * depth + "\n"
    )
    Path("client.py").write_text(f'KEY = "{AWS_KEY}"\n')

    found = reasons(["deep.yaml", "client.py"])

    assert [reason.split(": ")[0] for reason in found] == ["client.py:1", "deep.yaml:1"]
