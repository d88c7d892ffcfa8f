"""The console script's entry point: load the CLI quickly, then run it.

Importing the CLI (SQLAlchemy, pydantic, Typer) allocates a few hundred thousand objects and frees
almost none of them, so the cyclic garbage collector's passes during start-up are wasted work: they
cost about a quarter of a short command's time (`demine stats` on a national store). The collector
is paused while the CLI loads; what was loaded is then frozen out of later collections, and the
collector runs as usual for the command itself.
"""

from __future__ import annotations

import gc
from typing import Any


def load_app() -> Any:
    """The Typer app, imported with the cyclic collector paused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        from demine.cli.app import app
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    return app


def main() -> None:
    """Entry point of the `demine` console script and of `python -m demine`."""
    load_app()()
