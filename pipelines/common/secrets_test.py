from __future__ import annotations

import pytest

from pipelines.common.secrets import (
    MissingSecretError,
    get_database_credentials,
    get_secret,
    secret_env_var,
)


def test_variable_names_follow_the_kubernetes_secret_convention() -> None:
    assert secret_env_var("db_1746", "db_username") == "DB_1746__DB_USERNAME"
    assert secret_env_var("db-sme", "DB_PASSWORD") == "DB_SME__DB_PASSWORD"


def test_reads_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_1746__DB_USERNAME", "reader")
    monkeypatch.setenv("DB_1746__DB_PASSWORD", "s3cret")
    assert get_database_credentials("DB_1746") == ("reader", "s3cret")
    assert get_secret("x", "y", environ={"X__Y": "z"}) == "z"


@pytest.mark.parametrize("environ", [{}, {"DB_1746__DB_PASSWORD": ""}])
def test_missing_or_empty_secret_names_the_variable(environ: dict[str, str]) -> None:
    with pytest.raises(MissingSecretError, match="DB_1746__DB_PASSWORD") as caught:
        get_secret("DB_1746", "DB_PASSWORD", environ=environ)
    assert caught.value.variable == "DB_1746__DB_PASSWORD"
