"""Tables for people: rich on the terminal, Markdown in the GitHub job summary ($GITHUB_STEP_SUMMARY)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


@dataclass(frozen=True)
class Report:
    """One table (title, headers, rows) plus free lines under it."""

    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    notes: Sequence[str] = field(default_factory=tuple)
    empty: str = "nothing"

    def to_rich(self) -> Table:
        table = Table(title=self.title, title_justify="left", show_lines=True, expand=False)
        for header in self.headers:
            table.add_column(header, overflow="fold")
        for row in self.rows:
            table.add_row(*row)
        return table

    def to_markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        if self.rows:
            lines.append("| " + " | ".join(self.headers) + " |")
            lines.append("|" + "---|" * len(self.headers))
            lines.extend("| " + " | ".join(_cell(value) for value in row) + " |" for row in self.rows)
        else:
            lines.append(f"_{self.empty}_")
        lines.extend(["", *(f"- {note}" for note in self.notes)])
        return "\n".join(lines).rstrip() + "\n"


def show(console: Console, *reports: Report) -> None:
    """Prints ``reports`` and appends them to the GitHub job summary when running in a workflow."""
    for report in reports:
        if report.rows:
            console.print(report.to_rich())
        else:
            console.print(f"[bold]{report.title}[/]: {report.empty}")
        for note in report.notes:
            console.print(f"  • {note}", highlight=False)
    append_step_summary("\n".join(report.to_markdown() for report in reports))


def terminal_width() -> int | None:
    """The terminal's width (rich finds it); in logs (CI), COLUMNS or 160 columns."""
    return None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160


def append_step_summary(markdown: str) -> None:
    path = os.environ.get(STEP_SUMMARY_ENV)
    if path:
        with Path(path).open("a", encoding="utf-8") as summary:
            summary.write(markdown + "\n")


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", "<br>")
