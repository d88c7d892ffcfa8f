"""Fixtures: a fresh store per test on a temporary GeoPackage and on a throwaway PostGIS.

`make test` starts PostGIS (scripts/postgis.sh) and sets DEMINE_TEST_DATABASE_URL; each
test then gets its own database cloned from a migrated template, so every test runs against
both backends.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from demine.cli.app import app
from demine.domain.actors import Actor
from demine.services.setup import initialise
from demine.settings import Settings, sqlite_url
from demine.storage.database import Database

PG_URL = os.environ.get("DEMINE_TEST_DATABASE_URL")
BACKENDS = ["gpkg", "postgis"]


@pytest.fixture(scope="session")
def gpkg_template(tmp_path_factory) -> Path:
    """An initialised GeoPackage to copy for each test."""
    path = tmp_path_factory.mktemp("template") / "template.gpkg"
    database = Database(Settings(database_url=sqlite_url(path)))
    initialise(database, actor=Actor.system("test"))
    database.dispose()
    return path


def _admin_engine():
    url = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT"), url


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostGIS database used as the template of each test's database."""
    if not PG_URL:
        pytest.skip("PostGIS not configured (DEMINE_TEST_DATABASE_URL); `make test` sets it")
    admin, url = _admin_engine()
    name = f"tmpl_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(Settings(database_url=url.set(database=name).render_as_string(False)))
    initialise(database, actor=Actor.system("test"))
    database.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> Iterator[str]:
    """The URL of a fresh, initialised, empty store (each backend in turn)."""
    if request.param == "gpkg":
        path = tmp_path / "store.gpkg"
        shutil.copy(request.getfixturevalue("gpkg_template"), path)
        yield sqlite_url(path)
        return
    name, url = pg_clone(request.getfixturevalue("pg_template"))
    yield url
    pg_drop(name)


@pytest.fixture
def database(store_url) -> Iterator[Database]:
    """A Database object on the fresh store, for arranging data through services."""
    db = Database(Settings(database_url=store_url))
    yield db
    db.dispose()


class Cli:
    """Runs `demine` in-process against one store, like a user at a terminal would."""

    def __init__(self, url: str):
        self.url = url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        """Invoke a command with --database-url appended."""
        return self.runner.invoke(app, [*args, "--database-url", self.url], input=input)

    def raw(self, *args: str, input: str | None = None):
        """Invoke a command exactly as given."""
        return self.runner.invoke(app, list(args), input=input)


@pytest.fixture
def cli(store_url) -> Cli:
    """The CLI bound to the fresh store."""
    return Cli(store_url)


def clone_database(conn, template: str, name: str) -> None:
    """CREATE DATABASE name TEMPLATE template, on an AUTOCOMMIT connection to "postgres".

    PostgreSQL refuses while anyone is connected to the template (a pooled connection of an
    earlier test, say): those sessions are ended first, and the clone is retried briefly.
    """
    import time

    from sqlalchemy.exc import OperationalError

    for attempt in range(20):
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": template})
        try:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            return
        except OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.25)


def pg_clone(template: str) -> tuple[str, str]:
    """A new PostGIS database copied from ``template``: (name, URL)."""
    admin, url = _admin_engine()
    name = f"t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        clone_database(conn, template, name)
    admin.dispose()
    return name, url.set(database=name).render_as_string(hide_password=False)


def pg_drop(name: str) -> None:
    """Drop a database made by ``pg_clone``, whoever is still connected."""
    admin, _ = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
