from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.common.secrets import MissingSecretError
from pipelines.common.source import (
    LOCAL_RUN_ENV,
    SourceNotConfigured,
    configured_source,
    is_local_run,
    run_locally,
    samples_allowed,
)


def test_only_an_explicit_local_run_on_a_local_lake_allows_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCAL_RUN_ENV, raising=False)
    assert not is_local_run()
    assert not samples_allowed(str(tmp_path))
    assert not is_local_run({LOCAL_RUN_ENV: "0"})
    assert is_local_run({LOCAL_RUN_ENV: " True "})
    run_locally()
    assert is_local_run()
    assert samples_allowed(str(tmp_path))
    assert not samples_allowed("gs://bucket/lake")


def test_a_parameter_wins_then_the_secret_it_names() -> None:
    environ = {"API_X__API_URL": "http://127.0.0.1:1/dados"}
    assert configured_source("api_url", "http://given", "api_x", environ) == "http://given"
    assert configured_source("api_url", None, "api-x", environ) == "http://127.0.0.1:1/dados"
    assert configured_source("api_url", None, None, environ) is None
    with pytest.raises(MissingSecretError, match="API_Y__API_URL"):
        configured_source("api_url", None, "api_y", environ)


def test_the_error_names_the_parameter_and_the_secret_variable() -> None:
    error = SourceNotConfigured("rj_x__y", "api_url")
    assert "'api_url'" in str(error) and "<API_CREDENTIALS>__API_URL" in str(error)
    assert "nothing was written" in str(error)
    assert error.secret_variable == "<API_CREDENTIALS>__API_URL"
