"""A broken rule: the file it is in, the line when known, and why; printed as ``path:line: reason``.

One type for every check of the repository (the prefect.yaml validator, the conventions lint, the secret
scan), so their output reads the same and sorts by file, then line.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@functools.total_ordering
@dataclass(frozen=True)
class Problem:
    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"

    @property
    def where(self) -> str:
        """``path:line``, or ``path`` when the problem has no line (a missing file, a directory)."""
        return f"{self.path}:{self.line}" if self.line else self.path

    def sort_key(self) -> tuple[str, int, str]:
        return (self.path, self.line or 0, self.reason)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        return self.sort_key() < other.sort_key()


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Each problem once, by file, then line."""
    return sorted(set(problems))


class SpecError(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class DeployError(RuntimeError):
    """A reason to stop before registering anything (printed without a traceback)."""
