"""`demine check`: data quality findings."""

from __future__ import annotations

import typer

from demine.cli.common import (
    DbOption,
    JsonOption,
    LazyConsole,
    UrlOption,
    open_database,
    print_json,
    progress,
    reported,
    show_progress,
)
from demine.domain.actors import Actor

out = LazyConsole()
SHOWN = 50


def check(db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False):
    """Data quality findings: invalid, overlapping or duplicate geometry, ledger imbalance,
    orphan records, swapped lat/lon, outside the gazetteer, missing edit guards, a broken
    audit chain.

    Exit status: 0 when there are no error findings (warnings allowed), 1 when there are.
    """
    with reported():
        database = open_database(db, database_url)
        with progress(show_progress(as_json), "checking") as tick, database.read() as uow:
            from demine.services.checks import run_checks

            report = run_checks(uow, actor=Actor.system(), progress=tick)
    if as_json:
        print_json(report.as_dict())
    else:
        _render(report)
    raise typer.Exit(1 if report.has_errors else 0)


def _render(report) -> None:
    from rich.table import Table
    from rich.text import Text

    findings = report.findings
    if findings:
        table = Table(title=f"Findings ({min(len(findings), SHOWN)} of {len(findings):,})")
        for column in ("severity", "check", "layer", "record", "other", "detail"):
            table.add_column(column, overflow="fold")
        table.add_column("m²", justify="right")
        for f in findings[:SHOWN]:
            style = "red" if f.severity == "error" else "yellow"
            area = "" if f.area_m2 is None else f"{f.area_m2:,.1f}"
            table.add_row(Text(f.severity, style=style), f.check, f.layer,
                          Text(f.record or ""), Text(f.other or ""), Text(f.detail), area)
        out.print(table)
    counts = Table(title="Findings per check")
    counts.add_column("check")
    counts.add_column("findings", justify="right")
    for name, n in report.counts.items():
        counts.add_row(name, f"{n:,}")
    out.print(counts)
    checked = ", ".join(f"{n:,} {name}" for name, n in report.checked.items())
    out.print(f"checked {checked}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add this command to the app."""
    app.command()(check)
