from __future__ import annotations

import httpx
import pytest

from pipelines.common.sample_server import Response, SampleServer, json_response


def test_routes_are_served_and_counted_until_the_server_stops() -> None:
    routes = {
        "/dados": lambda _query: json_response([{"id": 1}, {"id": 2}]),
        "/falha": lambda _query: Response(status=503, body=b"busy"),
    }
    with SampleServer(routes) as server:
        url = server.url("/dados")
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url, timeout=5).json() == [{"id": 1}, {"id": 2}]
        assert httpx.get(server.url("/falha"), timeout=5).status_code == 503
        assert httpx.get(server.url("/nada"), timeout=5).status_code == 404
        assert server.hits == {"/dados": 1, "/falha": 1, "/nada": 1}

    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=5)
