"""Fetching JSON from HTTP APIs with a timeout and retries with exponential backoff."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class SourceError(RuntimeError):
    """An HTTP source that did not give usable JSON. The message names the URL."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem


def fetch_json(
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    timeout_seconds: float = 30.0,
    attempts: int = 3,
    backoff_seconds: float = 1.0,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """GET ``url`` and parse its JSON body.

    Connection failures, timeouts and retryable statuses (5xx, 429, 408) are retried up to ``attempts``
    times in all, waiting ``backoff_seconds * 2**n`` between tries; other statuses and malformed JSON fail
    at once. Every failure raises :class:`SourceError` naming the URL.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    own_client = client is None
    http = client if client is not None else httpx.Client(timeout=timeout_seconds, follow_redirects=True)
    try:
        last_problem = "no attempt made"
        for attempt in range(attempts):
            if attempt:
                sleep(backoff_seconds * 2 ** (attempt - 1))
            try:
                response = http.get(url, params=params, timeout=timeout_seconds)
            except httpx.TimeoutException as exc:
                last_problem = f"timed out after {timeout_seconds:g}s ({type(exc).__name__})"
                continue
            except httpx.TransportError as exc:
                last_problem = f"unreachable ({type(exc).__name__}: {exc})"
                continue
            if response.status_code in RETRYABLE_STATUS:
                last_problem = f"HTTP {response.status_code} {response.reason_phrase}"
                continue
            if response.is_error:
                raise SourceError(url, f"HTTP {response.status_code} {response.reason_phrase}")
            return _parse_json(url, response)
        raise SourceError(url, f"failed after {attempts} attempt(s): {last_problem}")
    finally:
        if own_client:
            http.close()


def _parse_json(url: str, response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        excerpt = response.content[:120].decode("utf-8", errors="replace")
        raise SourceError(url, f"response is not valid JSON ({exc}); body starts with {excerpt!r}") from exc
