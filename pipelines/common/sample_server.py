"""A small local HTTP server for sample data and tests: 127.0.0.1 on an ephemeral port, in a thread.

A local run of a capture with no source configured serves its sample data with one (pipelines.common.capture);
tests use it to serve good, malformed, slow or failing responses.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    delay_seconds: float = 0.0


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(status=status, body=json.dumps(payload).encode("utf-8"))


Route = Callable[[Mapping[str, list[str]]], Response]


class SampleServer:
    """Serves ``routes`` (path -> callable taking the query parameters) until stopped.

    Use as a context manager; ``url(path)`` gives the address of a route, ``hits`` counts requests per path.
    """

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self.routes = dict(routes)
        self.hits: Counter[str] = Counter()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SampleServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="sample-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sample server is not running")
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> SampleServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _handler_for(sample: SampleServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # (name fixed by http.server)
            parts = urlsplit(self.path)
            sample.hits[parts.path] += 1
            route = sample.routes.get(parts.path)
            if route is None:
                response = Response(status=404, body=b'{"error": "not found"}')
            else:
                response = route(parse_qs(parts.query))
            if response.delay_seconds:
                time.sleep(response.delay_seconds)
            try:
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:  # (signature fixed by http.server)
            pass

    return Handler
