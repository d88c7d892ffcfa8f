"""Fixtures: a fresh store per test on a temporary GeoPackage and on a throwaway PostGIS.

`make test` starts PostGIS (scripts/postgis.sh) and sets DEMINE_TEST_DATABASE_URL; each
test then gets its own database cloned from a migrated template, so every test runs against
both backends.

Tests that need the small demo region take ``demo_url`` (or ``demo_template`` for its tokens):
the demo is built once per backend and test session (per xdist worker), and each test gets a
private copy of it (sqlite3 backup for a GeoPackage, CREATE DATABASE ... TEMPLATE on PostGIS).
Slow-marked tests are skipped unless ``-m`` selects them (``pytest -m slow``).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Before demine is imported: passwords hashed at a test-only cost (accounts.CHEAP_HASH_VARIABLE;
# argon2id all the same), inherited by the CLI and servers the tests start.
os.environ["DEMINE_TEST_CHEAP_PASSWORD_HASH"] = "1"

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from demine.cli.app import app  # noqa: E402
from demine.domain.actors import Actor  # noqa: E402
from demine.services.loading.setup import initialise  # noqa: E402
from demine.settings import Settings, sqlite_url  # noqa: E402
from demine.storage.database import Database  # noqa: E402

# The web-UI tests' ``app`` fixture and clients (a module's own ``app`` fixture wins)
pytest_plugins = ["ui_clients"]

PG_URL = os.environ.get("DEMINE_TEST_DATABASE_URL")
BACKENDS = ["gpkg", "postgis"]
DEMO_ROLES = ("admin", "authority", "operator", "reporter", "viewer")
# the xdist worker ("gw0", ...), so that each worker's databases are told apart in PostgreSQL
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def slow_selected(config) -> bool:
    """Whether ``-m`` asks for slow tests (``-m slow``, not ``-m "not slow"``)."""
    expr = (config.getoption("markexpr") or "").replace(" ", "")
    return "slow" in expr and "notslow" not in expr


def pytest_collection_modifyitems(config, items) -> None:
    """Skip slow-marked tests unless selected: the default run stays short (see module)."""
    if slow_selected(config):
        return
    skip = pytest.mark.skip(reason="slow: select it with -m slow")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)


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
    name = f"tmpl_{WORKER}_{uuid.uuid4().hex[:10]}"
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
    STRATEGY FILE_COPY copies the files (0.03 s here) instead of logging every block in the
    WAL (PostgreSQL 15's default, 0.4 s for the 17 MB of a migrated store); the checkpoint it
    costs is cheap on the test cluster, which runs without fsync.
    """
    import time

    from sqlalchemy.exc import OperationalError

    for attempt in range(20):
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": template})
        try:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}" '
                              'STRATEGY FILE_COPY'))
            return
        except OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.25)


def pg_clone(template: str, prefix: str = "t") -> tuple[str, str]:
    """A new PostGIS database copied from ``template``: (name, URL)."""
    admin, url = _admin_engine()
    name = f"{prefix}_{WORKER}_{uuid.uuid4().hex[:12]}"
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


def copy_gpkg(source: Path | str, target: Path | str) -> None:
    """Copy a GeoPackage with sqlite3's backup, which includes what is still in the WAL."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()


# --- filled stores: built once, copied for each test -------------------------------------------

@dataclass(frozen=True)
class StoreTemplate:
    """A filled store on one backend, to copy for each test, and the API tokens made in it.

    Tokens live in the store, so a token made on the template works on every copy of it.
    """

    backend: str
    source: str  # the GeoPackage path, or the PostGIS database name
    tokens: dict[str, str]

    def copy(self, directory: Path) -> tuple[str, Callable[[], None]]:
        """A private copy: (URL, a function that removes it)."""
        if self.backend == "gpkg":
            path = directory / f"copy-{uuid.uuid4().hex[:8]}.gpkg"
            copy_gpkg(self.source, path)
            return sqlite_url(path), lambda: None
        name, url = pg_clone(self.source)
        return url, lambda: pg_drop(name)

    def bearer(self, who: str) -> dict[str, str]:
        """The Authorization header of the API token made for ``who``."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def drop(self) -> None:
        """Remove the template itself (a GeoPackage goes with its temporary folder)."""
        if self.backend == "postgis":
            pg_drop(self.source)


def filled_template(request, backend: str, directory: Path, fill: Callable[[Cli], dict],
                    prefix: str) -> StoreTemplate:
    """An initialised store on ``backend`` filled by ``fill(cli)``, which returns tokens.

    Call it from a session- or module-scoped fixture (``request`` is that fixture's).
    """
    if backend == "gpkg":
        path = directory / f"{prefix}.gpkg"
        shutil.copy(request.getfixturevalue("gpkg_template"), path)
        tokens = fill(Cli(sqlite_url(path)))
        with sqlite3.connect(path) as conn:  # everything in the main file
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return StoreTemplate(backend, str(path), tokens)
    name, url = pg_clone(request.getfixturevalue("pg_template"), prefix)
    return StoreTemplate(backend, name, fill(Cli(url)))


def api_token(cli: Cli, email: str) -> str:
    """A new read/write API token of the account ``email``."""
    made = cli("token", "create", "--email", email, "--scope", "read", "--scope", "write",
               "--json")
    assert made.exit_code == 0, made.output
    return json.loads(made.stdout)["token"]


# --- the small demo region: built once per backend and session ------------------------------

def fill_demo(cli: Cli) -> dict[str, str]:
    """`demine demo --scale small`, and a read/write API token per demo role."""
    result = cli("demo", "--scale", "small", "--no-serve", "--json")
    assert result.exit_code == 0, result.output
    return {role: api_token(cli, f"{role}@demo.demine.org") for role in DEMO_ROLES}


@pytest.fixture(scope="session")
def gpkg_demo(request, tmp_path_factory) -> StoreTemplate:
    """The small demo region in a GeoPackage, to copy (never to change)."""
    return filled_template(request, "gpkg", tmp_path_factory.mktemp("demo"), fill_demo, "demo")


@pytest.fixture(scope="session")
def postgis_demo(request, tmp_path_factory) -> Iterator[StoreTemplate]:
    """The small demo region in a PostGIS database, the template of each test's copy."""
    template = filled_template(request, "postgis", tmp_path_factory.mktemp("demo"), fill_demo,
                               "demo")
    yield template
    template.drop()


@pytest.fixture(params=BACKENDS)
def demo_template(request) -> StoreTemplate:
    """The demo template of each backend in turn (``demo_url`` is a copy of it)."""
    return request.getfixturevalue(f"{request.param}_demo")


@pytest.fixture
def demo_url(demo_template, tmp_path) -> Iterator[str]:
    """The URL of a private copy of the small demo region, for one test."""
    url, remove = demo_template.copy(tmp_path)
    yield url
    remove()


@pytest.fixture
def demo_cli(demo_url) -> Cli:
    """The CLI bound to the test's copy of the demo region."""
    return Cli(demo_url)


@pytest.fixture
def demo_database(demo_url) -> Iterator[Database]:
    """A Database object on the test's copy of the demo region (the one ``demo_cli`` uses)."""
    db = Database(Settings(database_url=demo_url))
    yield db
    db.dispose()
