"""What one import produced: the report's notes, the validator's problems, or why it was refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class UnusableInput(Exception):
    """An input directory that cannot be imported; the message says why."""


@dataclass(frozen=True, order=True)
class Note:
    """One line of the report: something changed, or something a person still has to do (``todo``)."""

    todo: bool
    where: str
    text: str


@dataclass
class Imported:
    """One input directory's import: its pipeline's name and kind, the report's notes, what failed."""

    source: Path
    name: str
    kind: str = "code"
    notes: list[Note] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def changed(self, where: str, text: str) -> None:
        self.notes.append(Note(False, where, text))

    def todo(self, where: str, text: str) -> None:
        self.notes.append(Note(True, where, text))
