"""A BigQuery REST endpoint on 127.0.0.1 that records what the real client sends (no emulator installs here).

It answers the few calls the staging-table code makes (datasets.insert, tables.insert, tables.patch/update)
by echoing the resource sent, and 409 to a second tables.insert of the same table, as BigQuery does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from pipelines.common.iplanrio.web_testing import send, serving


@dataclass
class Recorded:
    method: str
    path: str
    body: dict[str, Any]


@dataclass
class BigQueryRecorder:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    tables: set[str] = field(default_factory=set)


@contextmanager
def bigquery_endpoint() -> Iterator[BigQueryRecorder]:
    recorder = BigQueryRecorder(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            path = self.path.split("?")[0]
            recorder.requests.append(Recorded(self.command, path, body))
            status = 200
            parts = path.split("/")
            if self.command in ("PATCH", "PUT") and len(parts) == 9 and parts[7] == "tables":
                # /bigquery/v2/projects/<p>/datasets/<d>/tables/<t>: the answer is the whole table
                body = {
                    **body,
                    "tableReference": {"projectId": parts[4], "datasetId": parts[6], "tableId": parts[8]},
                }
            if self.command == "POST" and path.endswith("/tables"):
                reference = body["tableReference"]
                key = f"{reference['projectId']}.{reference['datasetId']}.{reference['tableId']}"
                if key in recorder.tables:
                    status, body = 409, {"error": {"code": 409, "message": f"Already Exists: {key}"}}
                recorder.tables.add(key)
            send(self, status, "application/json", json.dumps(body).encode())

        do_POST = do_PUT = do_PATCH = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        recorder.url = url
        yield recorder
