"""What a test does when a part it needs (Docker, an OS image, a registry) is missing on this machine."""

from __future__ import annotations

import os

import pytest


def skip_or_fail(reason: str) -> None:
    """Skips on a developer's machine; fails in CI (``CI`` set), where every part must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)
