"""Creating and upgrading the schema (Alembic), and the GeoPackage/PostGIS bookkeeping."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from demine.storage import gpkg, layer_triggers
from demine.storage.database import Database
from demine.storage.tables import ATTRIBUTE_TABLES, LAYERS, metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(conn) -> Config:
    """An Alembic configuration bound to ``conn``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(db: Database) -> None:
    """Create or upgrade the schema to the newest revision."""
    with db.engine.begin() as conn:
        if not db.is_sqlite:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        command.upgrade(alembic_config(conn), "head")
        finish(conn)


def finish(conn) -> None:
    """Register layers (GeoPackage) or spatial indexes (PostGIS), and give every registered
    layer its triggers (``layer_triggers``); idempotent."""
    layer_triggers.ensure(conn)
    if conn.dialect.name != "sqlite":
        for name in LAYERS:
            conn.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS ix_{name}_geom_gist ON {name} USING gist (geom)"
            )
        return
    gpkg.create_core(conn)
    for name, geometry_type in LAYERS.items():
        gpkg.register_layer(conn, name, "geom", geometry_type, metadata.tables[name].comment or "")
    for name in ATTRIBUTE_TABLES:
        gpkg.register_attributes(conn, name)
    for name in metadata.tables:
        if name not in LAYERS:
            gpkg.create_guard(conn, name)
