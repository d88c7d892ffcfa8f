"""`demine org`, `demine user`, `demine token`: organisations, accounts and API tokens."""

from __future__ import annotations

import sys
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

org_app = typer.Typer(help="Organisations (authority, operators, NGOs, engineer units, donors).")
user_app = typer.Typer(help="User accounts: one organisation and one role each.")
token_app = typer.Typer(help="Long-lived API tokens: stored hashed, scoped, revocable.")


@org_app.command("add")
def org_add(
    code: Annotated[str, typer.Option(help="short code, e.g. NMAA")],
    name: Annotated[str, typer.Option(help="full name")],
    kind: Annotated[str, typer.Option(help="authority, operator, ngo, military, commercial, "
                                           "donor")],
    country: Annotated[str | None, typer.Option(help="ISO 3166 alpha-3")] = None,
    db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False,
):
    """Register an organisation."""
    from demine.services.loading.reference_data import add_organisation

    with reported():
        database = open_database(db, database_url)
        with database.transaction() as uow:
            org = add_organisation(uow, actor=Actor.system(), code=code, name=name, kind=kind,
                                   country=country)
    show_rows({k: org[k] for k in ("code", "name", "kind", "country")}, as_json)


@org_app.command("list")
def org_list(db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False):
    """List organisations."""
    from demine.services.loading.reference_data import list_organisations

    with reported():
        database = open_database(db, database_url)
        with database.read() as uow:
            orgs = [{k: o[k] for k in ("code", "name", "kind", "country")}
                    for o in list_organisations(uow)]
    show_rows(orgs, as_json)


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Option(help="sign-in e-mail")],
    org: Annotated[str, typer.Option(help="organisation code")],
    role: Annotated[str, typer.Option(help="admin, authority, operator, reporter, inspector, "
                                           "viewer")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="read the password from stdin")] = False,
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    grant: Annotated[list[str] | None, typer.Option(help="e.g. casualty-personal")] = None,
    db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False,
):
    """Create a user account (password from stdin, never from the command line)."""
    from demine.services.access.accounts import add_user

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with reported():
        database = open_database(db, database_url)
        with database.transaction() as uow:
            user = add_user(uow, actor=Actor.system(), email=email, organisation=org,
                            role=role, password=password, name=name, grants=tuple(grant or ()))
    show_rows({k: user[k] for k in ("id", "email", "organisation", "role", "grants")}, as_json)


@user_app.command("list")
def user_list(db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False):
    """List user accounts."""
    from demine.services.access.accounts import list_users

    with reported():
        database = open_database(db, database_url)
        with database.read() as uow:
            rows = list_users(uow, actor=Actor.system())
    show_rows(rows, as_json)


@token_app.command("create")
def token_create(
    email: Annotated[str, typer.Option(help="the user the token acts for")],
    name: Annotated[str, typer.Option(help="what the token is for")] = "script",
    scope: Annotated[list[str] | None, typer.Option(help="read and/or write")] = None,
    days: Annotated[int | None, typer.Option(help="expires after N days")] = None,
    db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False,
):
    """Create a long-lived API token; it is printed once and stored hashed."""
    from datetime import timedelta

    from demine.services.access.accounts import issue_token, user_id_of

    with reported():
        database = open_database(db, database_url)
        with database.transaction() as uow:
            token = issue_token(uow, actor=Actor.system(), user_id=user_id_of(uow, email),
                                kind="api", name=name, scopes=tuple(scope or ("read",)),
                                ttl=timedelta(days=days) if days else None)
    show_rows({k: token[k] for k in ("id", "token", "name", "scopes", "expires_at")}, as_json)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="the token's id")],
    db: DbOption = None, database_url: UrlOption = None, as_json: JsonOption = False,
):
    """Revoke an API token."""
    from demine.services.access.accounts import revoke_token

    with reported():
        database = open_database(db, database_url)
        with database.transaction() as uow:
            revoke_token(uow, actor=Actor.system(), token_id=token_id)
    show_rows({"id": token_id, "revoked": True}, as_json)


def register(app: typer.Typer) -> None:
    """Add these command groups to the app."""
    app.add_typer(org_app, name="org")
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
