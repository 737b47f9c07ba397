from __future__ import annotations

import httpx
import pytest

from pipelines.common.sample_server import api_or_sample


def test_a_configured_api_is_used_as_is() -> None:
    calls: list[str] = []

    with api_or_sample("https://api.example/dados", "/dados", lambda: calls.append("sample")) as url:
        assert url == "https://api.example/dados"

    assert calls == [], "the sample was generated although an API URL was given"


def test_without_an_api_a_local_server_serves_the_sample_until_the_block_ends() -> None:
    with api_or_sample(None, "/dados", lambda: [{"id": 1}, {"id": 2}]) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/dados")
        response = httpx.get(url, timeout=5)
        assert response.status_code == 200
        assert response.json() == [{"id": 1}, {"id": 2}]

    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=5)
