"""Terminal output for the CLI: progress bars and the validation report."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..features.profile import StageProfile
from ..features.validate import ValidationReport

console = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)


class Update(Protocol):
    """What :func:`progress_bar` yields: ``update(step, done, total=1.0)``."""

    def __call__(self, step: str, done: float, total: float = 1.0) -> None: ...


@contextmanager
def progress_bar(title: str) -> Iterator[Update]:
    """A progress bar; yields ``update(step, done, total)``."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TextColumn("{task.fields[step]}"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task(title, total=1.0, step="")

        def update(step: str, done: float, total: float = 1.0) -> None:
            bar.update(task, completed=(done / total) if total else 1.0, step=step)

        yield update
        bar.update(task, completed=1.0, step="done")


def print_report(report: ValidationReport, *, examples: int = 5) -> None:
    """The validation report: rows per table, quarantine counts, then every finding."""
    table = Table(title="Contract check", show_lines=False)
    for name in ("table", "rows loaded", "quarantined"):
        table.add_column(name, justify="left" if name == "table" else "right")
    bad_by_table: dict[str, int] = {}
    for (t, _, _), n in report.quarantined.items():
        bad_by_table[t] = bad_by_table.get(t, 0) + n
    for name, rows in report.loaded_rows.items():
        table.add_row(name, f"{rows:,}", f"{bad_by_table.get(name, 0):,}")
    out.print(table)
    if report.quarantined:
        out.print("Quarantined values by reason (rows are kept in the 'quarantine' table):")
        for (t, column, reason), n in sorted(report.quarantined.items()):
            out.print(f"  {t}.{column}: {reason} x {n:,}")
    order = {"reject": 0, "quarantine": 1, "warning": 2, "note": 3}
    for problem in sorted(report.problems, key=lambda p: order[p.severity]):
        out.print(problem.render(), markup=False)
    verdict = "usable" if report.usable else "NOT usable"
    out.print(f"Folder is {verdict}: {len(report.rejections())} rejection(s), "
              f"{report.quarantined_total:,} quarantined value(s).", markup=False)


def print_profile(profile: StageProfile) -> None:
    """Where a feature pass spent its time, slowest step first."""
    table = Table(title=f"Where the time went ({profile.total_seconds:.1f} s in all)")
    for name in ("step", "seconds", "share"):
        table.add_column(name, justify="left" if name == "step" else "right")
    for step, seconds, share in profile.rows():
        table.add_row(step, f"{seconds:.2f}", f"{share:.1%}")
    out.print(table)
