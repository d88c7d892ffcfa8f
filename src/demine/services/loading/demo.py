"""Building the demo region in a store."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from demine.domain.actors import Actor
from demine.domain.errors import Conflict
from demine.services.access.demo_access import add_demo_access
from demine.services.loading.bulk import load_dataset
from demine.services.loading.setup import initialise
from demine.storage.database import Database
from demine.storage.tables import hazards


def build_demo(
    database: Database, *, actor: Actor, scale: str, seed: int, replace: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict:
    """Generate the region and load it into an empty store (a replaced file, with ``replace``)."""
    from demine.demo import generate  # the generator is only needed here

    path = database.path
    if path is not None and path.exists() and replace:
        database.dispose()
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    initialise(database, actor=actor)
    with database.read() as uow:
        if uow.conn.execute(select(func.count()).select_from(hazards)).scalar():
            raise Conflict("the store already holds hazards: demo needs an empty store "
                           "(use --replace for a GeoPackage file)")
    dataset = generate(scale, seed)
    rows = {name: table_rows for name, table_rows in dataset.rows.items()
            if name != "eo_models"}  # the catalogue is seeded by initialise
    with database.transaction() as uow:
        counts = load_dataset(uow, actor=actor, rows=rows, progress=progress)
        counts["logins"] = add_demo_access(uow, actor=actor)
    return counts
