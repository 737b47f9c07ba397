from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping

import pytest

from pipelines.common.http import SourceError, fetch_json
from pipelines.common.sample_server import Response, Route, SampleServer, json_response


def _flaky(failures: int) -> Route:
    calls = {"n": 0}

    def route(_query: Mapping[str, list[str]]) -> Response:
        calls["n"] += 1
        if calls["n"] <= failures:
            return Response(status=503, body=b"busy")
        return json_response({"ok": True})

    return route


@pytest.fixture
def server() -> Iterator[SampleServer]:
    routes: dict[str, Route] = {
        "/ok": lambda query: json_response({"echo": query.get("q", [None])[0]}),
        "/malformed": lambda _q: Response(body=b'{"veiculos": [{"codigo": '),
        "/html": lambda _q: Response(body=b"<html>maintenance</html>", content_type="text/html"),
        "/missing": lambda _q: Response(status=404, body=b"no"),
        "/slow": lambda _q: Response(body=b"{}", delay_seconds=1.0),
        "/flaky": _flaky(2),
        "/down": lambda _q: Response(status=500, body=b"error"),
    }
    with SampleServer(routes) as running:
        yield running


def _no_sleep(_seconds: float) -> None:
    pass


def test_fetches_json_with_params(server: SampleServer) -> None:
    assert fetch_json(server.url("/ok"), params={"q": "x"}) == {"echo": "x"}


@pytest.mark.parametrize("path", ["/malformed", "/html"])
def test_malformed_json_fails_at_once_naming_the_url(server: SampleServer, path: str) -> None:
    url = server.url(path)
    with pytest.raises(SourceError, match="not valid JSON") as caught:
        fetch_json(url, sleep=_no_sleep)
    assert caught.value.url == url
    assert str(caught.value).startswith(url)
    assert server.hits[path] == 1


def test_dead_source_is_retried_then_named(server: SampleServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/veiculos"
    waits: list[float] = []
    with pytest.raises(SourceError, match="failed after 3 attempt") as caught:
        fetch_json(url, attempts=3, backoff_seconds=0.5, sleep=waits.append)
    assert caught.value.url == url
    assert "unreachable" in str(caught.value)
    assert waits == [0.5, 1.0]


def test_server_errors_are_retried_until_success(server: SampleServer) -> None:
    assert fetch_json(server.url("/flaky"), attempts=3, sleep=_no_sleep) == {"ok": True}
    assert server.hits["/flaky"] == 3


def test_persistent_server_error_and_client_error(server: SampleServer) -> None:
    with pytest.raises(SourceError, match="HTTP 500"):
        fetch_json(server.url("/down"), attempts=2, sleep=_no_sleep)
    assert server.hits["/down"] == 2
    with pytest.raises(SourceError, match="HTTP 404"):
        fetch_json(server.url("/missing"), attempts=3, sleep=_no_sleep)
    assert server.hits["/missing"] == 1


def test_timeout(server: SampleServer) -> None:
    with pytest.raises(SourceError, match="timed out after 0.2s"):
        fetch_json(server.url("/slow"), timeout_seconds=0.2, attempts=1)
