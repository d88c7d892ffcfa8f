"""Alembic environment: runs on the connection demine hands over (batch mode on SQLite)."""

from alembic import context

from demine.storage.tables import metadata
from demine.storage.types import Geometry, Timestamp

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - demine always passes its connection
    raise RuntimeError("run migrations through `demine init` (demine.storage.schema)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    user_module_prefix="demine.storage.types.",
    # SQLite reflects a GeoPackage geometry column by its declared name (POINT, …): not a change.
    compare_type=lambda _ctx, _col, _meta_col, _found, wanted: (
        False if isinstance(wanted, Geometry | Timestamp) else None
    ),
    include_name=lambda name, type_, parent: not (
        type_ == "table" and (name.startswith(("gpkg_", "rtree_")) or name == "spatial_ref_sys")
    ),
)
with context.begin_transaction():
    context.run_migrations()
