"""`demine stats`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from demine.cli.common import (
    DbOption,
    JsonOption,
    LazyConsole,
    UrlOption,
    open_database,
    print_json,
    reported,
)
from demine.domain.actors import Actor
from demine.services.loading.reference_data import organisation_codes
from demine.services.reads import stats as stats_service

out = LazyConsole()


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _organisation(uow, code: str | None) -> int | None:
    if code is None:
        return None
    for organisation_id, known in organisation_codes(uow).items():
        if known == code:
            return organisation_id
    raise typer.BadParameter(f"no organisation has the code {code!r}")


def stats(
    db: DbOption = None,
    database_url: UrlOption = None,
    by: Annotated[
        str | None, typer.Option("--by", help="group by region, org, year or month")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="figures as recorded at the end of DATE")
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", help="only this organisation's hazards and finds (code)")
    ] = None,
    as_json: JsonOption = False,
):
    """Land release statistics: baseline = cancelled + reduced + cleared + remaining (m²)."""
    if by is not None and by not in stats_service.GROUPINGS:
        raise typer.BadParameter(f"--by must be one of {', '.join(stats_service.GROUPINGS)}")
    when = _parse_date(as_of)
    with reported():
        database = open_database(db, database_url)
        with database.read() as uow:
            organisation_id = _organisation(uow, org)
            result = stats_service.land_release_stats(uow, actor=Actor.system(), by=by,
                                                      as_of=when,
                                                      organisation_id=organisation_id)
    if as_json:
        print_json(result)
        return
    rows = result.get("groups", []) + [{"group": "total", **result}]
    from rich.table import Table

    table = Table(title=f"Land release (m²){' as of ' + as_of if as_of else ''}")
    for column in ("group", *(c.removesuffix("_m2") for c in stats_service.LEDGER), "EO"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for row in rows:
        figures = [f"{row[c]:,.0f}" for c in stats_service.LEDGER]
        table.add_row(str(row["group"]), *figures, f"{sum(row['eo_destroyed'].values()):,}")
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add these commands to the app."""
    app.command()(stats)
