"""``pipelines_utils.env`` on real environment variables: the job secret's variables, a real service-account
key (made by openssl), Google's own credential classes reading it."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from pathlib import Path

import google.auth
import pytest
from google.oauth2 import service_account

from pipelines.common.iplanrio.env import (
    get_bd_credentials_from_env,
    get_credentials_from_env,
    get_database_username_and_password_from_secret,
    getenv_or_action,
    inject_bd_credentials,
)
from pipelines.common.iplanrio.google_testing import encoded, new_service_account
from pipelines.common.secrets import MissingSecretError

VARIABLE = "IPLANRIO_ENV_TEST_VALUE"


def test_getenv_or_action_reads_defaults_and_acts_on_a_missing_variable(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    assert getenv_or_action(VARIABLE, default="padrão") == "padrão"
    with pytest.raises(ValueError, match=f"Environment variable '{VARIABLE}' not found"):
        getenv_or_action(VARIABLE)
    assert getenv_or_action(VARIABLE, action="ignore") is None
    with caplog.at_level(logging.WARNING, logger="pipelines.iplanrio"):
        assert getenv_or_action(VARIABLE, action="warn") is None
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert f"Environment variable '{VARIABLE}' not found." in caplog.records[0].getMessage()
    with pytest.raises(ValueError, match="Invalid action 'explode'"):
        getenv_or_action(VARIABLE, action="explode")
    monkeypatch.setenv(VARIABLE, "valor")
    assert getenv_or_action(VARIABLE, default="padrão") == "valor"


def test_inject_bd_credentials_writes_a_private_file_that_google_auth_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = new_service_account(tmp_path)
    monkeypatch.setenv("BASEDOSDADOS_CREDENTIALS_STAGING", encoded(info))
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    inject_bd_credentials(environment="staging")
    path = Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"])
    try:
        assert json.loads(path.read_text()) == info
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        credentials, project = google.auth.default()
        assert project == "rj-escritorio-dev"
        assert isinstance(credentials, service_account.Credentials)
        assert credentials.service_account_email == info["client_email"]
    finally:
        path.unlink()


def test_credentials_from_env_carry_the_scopes_asked_and_sign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = new_service_account(tmp_path)
    monkeypatch.setenv("BASEDOSDADOS_CREDENTIALS_PROD", encoded(info))
    default = get_bd_credentials_from_env(mode="prod")
    assert default.project_id == "rj-escritorio-dev"
    assert default.scopes == [
        "https://www.googleapis.com/auth/drive",
        "https://www.googleapis.com/auth/cloud-platform",
    ]
    assert len(default.sign_bytes(b"payload")) == 256  # a 2048-bit RSA signature: the key was read
    assert get_credentials_from_env(mode="prod").scopes is None
    scoped = get_credentials_from_env(mode="prod", scopes=["https://www.googleapis.com/auth/bigquery"])
    assert scoped.scopes == ["https://www.googleapis.com/auth/bigquery"]


def test_missing_or_malformed_credentials_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BASEDOSDADOS_CREDENTIALS_PROD", raising=False)
    with pytest.raises(MissingSecretError, match="BASEDOSDADOS_CREDENTIALS_PROD"):
        inject_bd_credentials()
    monkeypatch.setenv("BASEDOSDADOS_CREDENTIALS_PROD", "not base64!")
    with pytest.raises(ValueError, match="BASEDOSDADOS_CREDENTIALS_PROD is not a base64-encoded"):
        get_bd_credentials_from_env(mode="prod")
    monkeypatch.setenv("BASEDOSDADOS_CREDENTIALS_PROD", base64.b64encode(b"[1, 2]").decode())
    with pytest.raises(ValueError, match="does not hold a JSON object"):
        get_bd_credentials_from_env(mode="prod")
    with pytest.raises(ValueError, match="Mode must be 'prod' or 'staging', not 'dev'"):
        inject_bd_credentials(environment="dev")


def test_database_credentials_come_from_the_job_secrets_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The city's ``infisical_secret_path`` ``/db-1746``: ``DB_1746__DB_USERNAME`` and ``__DB_PASSWORD``."""
    monkeypatch.setenv("DB_1746__DB_USERNAME", "leitor")
    monkeypatch.delenv("DB_1746__DB_PASSWORD", raising=False)
    with pytest.raises(MissingSecretError, match="DB_1746__DB_PASSWORD"):
        get_database_username_and_password_from_secret("/db-1746")
    value = os.urandom(8).hex()
    monkeypatch.setenv("DB_1746__DB_PASSWORD", value)
    assert get_database_username_and_password_from_secret("/db-1746") == {
        "DB_USERNAME": "leitor",
        "DB_PASSWORD": value,
    }
