"""The one retry policy for calls to Prefect's API: registration, pools, and the local run alike.

The session's client does not retry on its own (session.py); every call that may meet a busy or restarting
server goes through :func:`with_retries`. Transient errors (connection failures, 408/429/5xx) are retried with
exponential backoff and jitter; anything else is raised at once.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

T = TypeVar("T")
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently transient API errors are retried (env: PIPELINES_DEPLOY_RETRY_*)."""

    attempts: int = 5
    initial_seconds: float = 0.5
    max_seconds: float = 8.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        default = cls()
        return cls(
            attempts=int(os.environ.get("PIPELINES_DEPLOY_RETRY_ATTEMPTS", default.attempts)),
            initial_seconds=float(
                os.environ.get("PIPELINES_DEPLOY_RETRY_INITIAL_SECONDS", default.initial_seconds)
            ),
            max_seconds=float(os.environ.get("PIPELINES_DEPLOY_RETRY_MAX_SECONDS", default.max_seconds)),
        )


def is_transient(error: BaseException) -> bool:
    """Worth retrying: the server was unreachable, timed out, or answered 408/429/5xx."""
    if isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code in TRANSIENT_STATUS
    return False


async def with_retries(
    policy: RetryPolicy,
    operation: Callable[[], Awaitable[T]],
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> tuple[T, int]:
    """``operation()``'s result and the number of attempts it took; the last error if all attempts fail."""

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if on_retry is not None and error is not None:
            on_retry(state.attempt_number, error, state.upcoming_sleep)

    attempts = 0
    async for attempt in AsyncRetrying(
        stop=stop_after_attempt(max(policy.attempts, 1)),
        wait=wait_exponential_jitter(
            multiplier=policy.initial_seconds, max=policy.max_seconds, jitter=policy.initial_seconds
        ),
        retry=retry_if_exception(is_transient),
        before_sleep=before_sleep,
        reraise=True,
    ):
        with attempt:
            attempts = attempt.retry_state.attempt_number
            result = await operation()
    return result, attempts


async def retried(policy: RetryPolicy, operation: Callable[[], Awaitable[T]]) -> T:
    """``operation()``'s result, retried like :func:`with_retries`."""
    result, _ = await with_retries(policy, operation)
    return result
