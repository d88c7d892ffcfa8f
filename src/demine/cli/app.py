"""The `demine` command: one Typer app, a module per group of commands."""

from __future__ import annotations

import typer

from demine.cli import access, accounts, audit, checks, data, demo, server, stats, tiles

app = typer.Typer(
    name="demine",
    help="Mine action information management: hazards, land release, EO finds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
server.register(app)
demo.register(app)
data.register(app)
stats.register(app)
checks.register(app)
accounts.register(app)
access.register(app)
audit.register(app)
tiles.register(app)
