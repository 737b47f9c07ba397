"""The one place that decides what a test does when a part it needs is missing on this machine (Docker, an OS
image, a registry, a database server): skip on a developer's machine, fail in CI. CI prepares every part with
build-support/ci/setup-machine.sh, so a missing one there is a broken setup, never a reason to skip."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True in CI (``CI`` set, as GitHub and .ci/run set it)."""
    return bool(os.environ.get("CI"))


def skip_or_fail(reason: str) -> NoReturn:
    """Skips on a developer's machine; fails in CI, where every part must be there."""
    if in_ci():
        pytest.fail(f"{reason} (required in CI: build-support/ci/setup-machine.sh prepares it)")
    pytest.skip(reason)
