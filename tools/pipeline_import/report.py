"""The report: per pipeline, a table of what changed and what a person must still do, with file and line."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from pipeline_import.imported import Imported, Note


def report(console: Console, results: Sequence[Imported], shared: Imported | None = None) -> None:
    """One table per pipeline, then the modules moved to pipelines/common/shared (``shared``), then the
    totals."""
    for result in [*results, *([shared] if shared and shared.notes else [])]:
        title = f"{result.source.name} -> pipelines/{result.name} ({result.kind}, {result.seconds:.1f} s)"
        if result is shared:
            title = f"{result.name}: modules one pipeline imports from another"
        if result.error:
            console.print(
                f"[bold red]✕ {escape(str(result.source))}: not imported[/]: {escape(result.error)}"
            )
            continue
        table = Table(title=title, title_justify="left", show_lines=False, expand=True)
        table.add_column("", width=2)
        table.add_column("Onde", overflow="fold", ratio=2)
        table.add_column("O quê", overflow="fold", ratio=5)
        for note in sorted(result.notes, key=_report_order):
            table.add_row("[yellow]![/]" if note.todo else "[green]✓[/]", Text(note.where), Text(note.text))
        for problem in result.problems:
            table.add_row("[red]✕[/]", "validator", Text(problem))
        console.print(table)
    imported = [result for result in results if not result.error]
    todo = sum(
        1 for result in [*imported, *([shared] if shared else [])] for note in result.notes if note.todo
    )
    console.print(
        f"{len(imported)} of {len(results)} pipeline(s) imported; {todo} item(s) marked ! to do by hand "
        "(docs/importar.md)."
    )


def _report_order(note: Note) -> tuple[bool, str, int, str]:
    """Changes first, then what is left to do; by file, then by line number."""
    path, _, line = note.where.rpartition(":")
    if not line.isdigit():
        path, line = note.where, "0"
    return note.todo, path, int(line), note.text
