"""`demine share`, `demine grant`, `demine task`: who sees and who works what (administrators,
on the local store; each change is audited)."""

from __future__ import annotations

from typing import Annotated

import typer

from demine.cli.common import (
    DbOption,
    JsonOption,
    UrlOption,
    open_database,
    reported,
    show_rows,
)
from demine.domain.actors import Actor

share_app = typer.Typer(help="Sharing agreements: an owner's shared records seen by a partner.")
grant_app = typer.Typer(help="Name an organisation (restricted) or a user (confidential) on a "
                             "record.")
task_app = typer.Typer(help="Task an organisation on a hazard that is not its own.")
Org = Annotated[str, typer.Option("--org", help="organisation code")]
Hazard = Annotated[str, typer.Option("--hazard", help="hazard code")]


def _record_id(uow, layer: str, code: str) -> int:
    from demine.domain.errors import Invalid, Problem
    from demine.services.records.resolver import Resolver

    found = Resolver(uow).lookup(layer, code)
    if found is None:
        raise Invalid(Problem(f"{layer} {code}", "record", f"unknown record {code!r}"))
    return int(found)


@share_app.command("add")
def share_add(
    owner: Annotated[str, typer.Option(help="the organisation whose records are shared")],
    partner: Annotated[str, typer.Option(help="the organisation that sees them")],
    db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False,
):
    """Let a partner see the owner's ``shared`` records."""
    from demine.services.access.sharing import add_sharing_agreement

    with reported(), open_database(db, database_url).transaction() as uow:
        add_sharing_agreement(uow, actor=Actor.system(), owner=owner, partner=partner)
    show_rows({"owner": owner, "partner": partner}, as_json)


@grant_app.command("add")
def grant_add(
    layer: Annotated[str, typer.Option(help="e.g. hazards")],
    record: Annotated[str, typer.Option(help="the record's code")],
    org: Annotated[str | None, typer.Option("--org", help="organisation code")] = None,
    user: Annotated[str | None, typer.Option(help="user e-mail")] = None,
    db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False,
):
    """Name an organisation or a user on a restricted or confidential record."""
    from demine.services.access.sharing import grant_record

    with reported(), open_database(db, database_url).transaction() as uow:
        grant_record(uow, actor=Actor.system(), layer=layer,
                     record_id=_record_id(uow, layer, record), organisation=org,
                     user_email=user)
    show_rows({"layer": layer, "record": record, "organisation": org, "user": user}, as_json)


@task_app.command("add")
def task_add(hazard: Hazard, org: Org, db: DbOption = None, database_url: UrlOption = None,
             as_json: JsonOption = False):
    """Task an organisation on a hazard: it may then record activities and finds there."""
    from demine.services.records.taskings import task

    with reported(), open_database(db, database_url).transaction() as uow:
        task(uow, actor=Actor.system(), hazard_id=_record_id(uow, "hazards", hazard),
             organisation=org)
    show_rows({"hazard": hazard, "organisation": org}, as_json)


@task_app.command("remove")
def task_remove(hazard: Hazard, org: Org, db: DbOption = None, database_url: UrlOption = None,
                as_json: JsonOption = False):
    """End an organisation's tasking on a hazard."""
    from demine.services.records.taskings import untask

    with reported(), open_database(db, database_url).transaction() as uow:
        untask(uow, actor=Actor.system(), hazard_id=_record_id(uow, "hazards", hazard),
               organisation=org)
    show_rows({"hazard": hazard, "organisation": org, "removed": True}, as_json)


@task_app.command("list")
def task_list(hazard: Hazard, db: DbOption = None, database_url: UrlOption = None,
              as_json: JsonOption = False):
    """The organisations tasked on a hazard."""
    from demine.services.records.taskings import list_taskings

    with reported(), open_database(db, database_url).read() as uow:
        rows = list_taskings(uow, actor=Actor.system(),
                             hazard_id=_record_id(uow, "hazards", hazard))
    show_rows([{"hazard": hazard, "organisation": r["organisation"],
            "created_by": r["created_by"]} for r in rows], as_json)


def register(app: typer.Typer) -> None:
    """Add these command groups to the app."""
    app.add_typer(share_app, name="share")
    app.add_typer(grant_app, name="grant")
    app.add_typer(task_app, name="task")
