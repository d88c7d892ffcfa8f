"""`demine audit verify|export`: check the hash chain; hand it to a partner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from demine.cli.common import (
    DbOption,
    JsonOption,
    UrlOption,
    err,
    open_database,
    print_json,
    reported,
)
from demine.domain.actors import Actor

audit_app = typer.Typer(help="The tamper-evident audit log.")


@audit_app.command("verify")
def verify(db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False):
    """Recompute the hash chain; exit 1 naming the first broken entry."""
    from demine.services.audit import verify as verify_chain

    with reported():
        database = open_database(db, database_url)
        with database.read() as uow:
            count, broken, why = verify_chain(uow)
    if as_json:
        print_json({"entries": count, "ok": broken is None, "first_broken": broken,
                    "reason": why})
    elif broken is None:
        err.print(f"audit chain intact: {count} entries", markup=False)
    else:
        err.print(f"audit chain broken at entry {broken}: {why}", markup=False)
    if broken is not None:
        raise typer.Exit(1)


@audit_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file")],
    db: DbOption = None, database_url: UrlOption = None,
):
    """Write every entry (JSON Lines) so a partner can verify the chain independently."""
    from demine.services.audit import entries

    with reported():
        database = open_database(db, database_url)
        with database.read() as uow, out.open("w", encoding="utf-8") as f:
            n = 0
            for entry in entries(uow, actor=Actor.system()):
                f.write(json.dumps(entry, sort_keys=True, default=str) + "\n")
                n += 1
    err.print(f"wrote {n} entries to {out}", markup=False)


def register(app: typer.Typer) -> None:
    """Add this command group to the app."""
    app.add_typer(audit_app, name="audit")
