"""Creating a store: schema, GeoPackage registration, reference catalogue."""

from __future__ import annotations

from demine.domain.actors import Actor
from demine.services.loading.reference_data import seed_eo_models
from demine.storage import schema
from demine.storage.database import Database


def initialise(db: Database, *, actor: Actor) -> int:
    """Create or upgrade the schema and load the EO catalogue; returns models added."""
    schema.upgrade(db)
    with db.transaction() as uow:
        return seed_eo_models(uow, actor=actor)
