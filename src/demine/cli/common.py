"""What every command shares: database options, error → exit code table, output helpers."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from demine.domain.errors import (
    Conflict,
    DemineError,
    Invalid,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    StorageError,
)
from demine.settings import Settings, sqlite_url
from demine.storage.database import Database

EXIT_CODES: dict[type[DemineError], int] = {
    Invalid: 3,
    NotFound: 4,
    PermissionDenied: 5,
    Conflict: 6,
    PreconditionFailed: 7,
    StorageError: 8,
}

DbOption = Annotated[
    Path | None, typer.Option("--db", help="GeoPackage file (default ./demine.gpkg)")
]
UrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="postgresql://… or sqlite:///… (or DEMINE_DATABASE_URL)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output on stdout")]

class LazyConsole:
    """A rich Console made on first use, so that commands printing JSON never load rich."""

    def __init__(self, **options: Any):
        self._options, self._console = options, None

    @property
    def console(self):
        """The Console itself (for rich objects that take one)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


err = LazyConsole(stderr=True)


def settings_for(db: Path | None, database_url: str | None) -> Settings:
    """Settings from the environment, with the database the options name."""
    try:
        if database_url:
            return Settings(database_url=database_url)
        if db is not None:
            return Settings(database_url=sqlite_url(db))
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        err.print(f"error: settings: {problems}", markup=False)
        raise typer.Exit(2) from None


def open_database(db: Path | None, database_url: str | None, *, existing=True) -> Database:
    """The store the options name; with ``existing``, it must have been initialised."""
    database = Database(settings_for(db, database_url))
    if existing:
        database.require_schema()
    else:
        database.require_file(existing=False)
    return database


def exit_code(exc: DemineError) -> int:
    """The exit status for a domain error."""
    for kind, code in EXIT_CODES.items():
        if isinstance(exc, kind):
            return code
    return 1


@contextmanager
def reported() -> Iterator[None]:
    """Turn domain errors into one line per problem on stderr and a non-zero exit."""
    try:
        yield
    except Invalid as exc:
        for problem in exc.problems:
            err.print(f"error: {problem}", markup=False, soft_wrap=True)
        raise typer.Exit(exit_code(exc)) from None
    except DemineError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(exit_code(exc)) from None


def print_json(data: Any) -> None:
    """JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def show_rows(data: Any, as_json: bool) -> None:
    """A record or a list of them: JSON on stdout, or ``key=value`` lines on stderr."""
    if as_json:
        print_json(data)
        return
    for row in data if isinstance(data, list) else [data]:
        err.print("  ".join(f"{k}={v}" for k, v in row.items()), markup=False)


def show_progress(as_json: bool) -> bool:
    """Progress bars only on a terminal and never with --json."""
    return not as_json and sys.stderr.isatty()


@contextmanager
def progress(enabled: bool, description: str) -> Iterator[Callable[[int, int], None]]:
    """A callback(done, total) that drives a progress bar when enabled."""
    if not enabled:
        yield lambda done, total: None
        return
    from rich.progress import Progress  # only when a bar is drawn

    with Progress(console=err.console, transient=True) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
