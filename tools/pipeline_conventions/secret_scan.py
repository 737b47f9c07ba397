"""Secrets committed by mistake, found by detect-secrets, minus the reviewed ones listed in the baseline.

The baseline (`.secrets.baseline` at the repository root) records detect-secrets' settings (plugins, filters
such as the one for the Kubernetes secret names of prefect.yaml files) and the findings reviewed as false
positives. A finding is new when its file, type and hashed value are not in the baseline: moving a reviewed
line does not make it new.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from detect_secrets.core import baseline
from detect_secrets.core.secrets_collection import SecretsCollection

from pipeline_conventions.problems import Problem

BASELINE_FILE: Final = ".secrets.baseline"
# detect-secrets reads YAML with PyYAML's recursive pure-Python loader (~5 frames per level): enough for a
# YAML file nested a few thousand levels deep (libyaml, which the prefect.yaml validator uses, stops at 1000).
RECURSION_LIMIT: Final = 20_000
HOW_TO_FIX: Final = (
    "remove it (and rotate it: it may have been pushed) and read it from the environment; if it is a false "
    f"positive, add it to {BASELINE_FILE} (see docs/convencoes.md)"
)


def scan(files: Iterable[str], baseline_file: Path) -> list[Problem]:
    """Potential secrets in `files` that the baseline does not list."""
    if not baseline_file.is_file():
        return [
            Problem(
                str(baseline_file), "missing: the secret scan needs its baseline (see docs/convencoes.md)"
            )
        ]
    reviewed = baseline.load(baseline.load_from_file(str(baseline_file)), filename=str(baseline_file))
    found = SecretsCollection()
    unscanned: list[Problem] = []
    for file in sorted(set(files)):
        if Path(file).name != BASELINE_FILE:
            try:
                with _recursion_limit(RECURSION_LIMIT):
                    found.scan_file(file)
            except Exception as error:  # one odd file must not stop the scan of the others
                unscanned.append(
                    Problem(
                        file,
                        f"could not be scanned for secrets ({type(error).__name__}: {error}); the other "
                        "files were: simplify it, or review it by hand",
                    )
                )
    return sorted(
        [
            *unscanned,
            *(
                Problem(filename, f"possible secret ({secret.type}): {HOW_TO_FIX}", secret.line_number)
                for filename, secret in found - reviewed
            ),
        ]
    )


@contextlib.contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, previous))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)
