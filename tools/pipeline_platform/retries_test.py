"""The retry policy against real servers: an unreachable port, then Prefect's own test server."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from prefect.client.orchestration import get_client

from pipeline_platform.retries import RetryPolicy, is_transient, with_retries

FAST = RetryPolicy(attempts=3, initial_seconds=0.05, max_seconds=0.1)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_api_is_retried_with_backoff_then_reported() -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/health"
    calls: list[float] = []
    retries: list[tuple[int, float]] = []

    async def call() -> int:
        calls.append(asyncio.get_running_loop().time())
        async with httpx.AsyncClient() as client:
            return (await client.get(url)).status_code

    with pytest.raises(httpx.ConnectError):
        asyncio.run(with_retries(FAST, call, lambda attempt, _error, sleep: retries.append((attempt, sleep))))

    assert len(calls) == FAST.attempts
    assert [attempt for attempt, _ in retries] == [1, 2]
    assert all(0 < sleep <= FAST.max_seconds for _, sleep in retries)


def test_a_transient_failure_then_success_counts_the_attempts(prefect_harness: None) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/api/health"
    outcomes = iter([dead, dead])

    async def call() -> int:
        async with get_client() as client:
            url = next(outcomes, None)
            if url is not None:
                async with httpx.AsyncClient() as plain:
                    return (await plain.get(url)).status_code
            return (await client.hello()).status_code

    status, attempts = asyncio.run(with_retries(FAST, call))

    assert (status, attempts) == (200, 3)


def test_only_transport_errors_and_retryable_statuses_are_transient() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/api/deployments/")

    def status_error(code: int) -> httpx.HTTPStatusError:
        return httpx.HTTPStatusError("x", request=request, response=httpx.Response(code, request=request))

    assert is_transient(httpx.ConnectError("refused", request=request))
    assert is_transient(httpx.ReadTimeout("slow", request=request))
    assert all(is_transient(status_error(code)) for code in (408, 429, 500, 502, 503, 504))
    assert not any(is_transient(status_error(code)) for code in (400, 404, 409, 422))
    assert not is_transient(ValueError("bad spec"))
