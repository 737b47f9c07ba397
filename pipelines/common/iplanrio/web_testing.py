"""An HTTP server on 127.0.0.1 for the templates' tests: answers from a table of routes and records every
request (method, path, query, headers)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Response:
    body: bytes
    content_type: str = "application/json"
    status: int = 200


Route = Callable[[Request], Response]


@dataclass
class WebServer:
    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)


def send(handler: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` answering on 127.0.0.1 (a free port) in a thread; yields the server's URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def web_server() -> Iterator[WebServer]:
    """Routes are keyed by ``"<METHOD> <decoded path>"``; any other request gets a 404."""
    server_state = WebServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=unquote(parts.path),
                query={key: values[-1] for key, values in parse_qs(parts.query).items()},
                headers={key.lower(): value for key, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            server_state.requests.append(request)
            route = server_state.routes.get(f"{request.method} {request.path}")
            response = route(request) if route else Response(b'{"error": "no such route"}', status=404)
            send(self, response.status, response.content_type, response.body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        server_state.url = url
        yield server_state
