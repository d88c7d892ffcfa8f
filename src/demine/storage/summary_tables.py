"""Derived summary tables (re-exported by tables.py): figures the database keeps from the
records so that statistics need not read every record."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table

from demine.storage import history_tables  # noqa: F401  (registered first, as before the split)
from demine.storage.metadata import metadata

# Derived, never written by demine's code: EO destroyed (disposal destroyed in situ, removed or
# rendered safe) summed per admin area of the find's hazard (0: none), organisation, sensitivity,
# review status, month found and category. Database triggers on eo_finds and hazards keep it
# (migration 0005), so statistics read some ten thousand tallies instead of a million finds;
# `demine check` recomputes it from the finds.
eo_tallies = Table(
    "eo_tallies",
    metadata,
    # Key order and the two indexes let SQLite group by category alone, or with the area, the
    # organisation or the month, straight from an index in order (no sort of every tally).
    Column("category", String(16), primary_key=True),
    Column("admin_area_id", Integer, primary_key=True, autoincrement=False),
    Column("organisation_id", Integer, primary_key=True, autoincrement=False),
    Column("month", String(7), primary_key=True),
    Column("review_status", String(16), primary_key=True),
    Column("sensitivity", String(16), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Index("ix_eo_tallies_organisation", "category", "organisation_id", "review_status",
          "sensitivity", "quantity"),
    Index("ix_eo_tallies_month", "category", "month", "review_status", "sensitivity",
          "quantity"),
    sqlite_with_rowid=False,
)

# Derived, never written by demine's code: where the layers changed, for the tile cache. Database
# triggers (migration 0007) add the bounds of each inserted, updated (old and new) or deleted
# row of a tile layer; a change to need-to-know grants or sharing agreements adds a row for
# every layer ('*', no bounds). The audit chain's next entry stamps unstamped rows with its
# seq (`head`), so a cache valid at one head knows which tiles the entries after it touched;
# rows more than 100,000 entries old are pruned. See ``services.tiles.changes``.
tile_changes = Table(
    "tile_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("layer", String(40), nullable=False),
    Column("minx", Float),
    Column("miny", Float),
    Column("maxx", Float),
    Column("maxy", Float),
    Column("head", Integer),
    Index("ix_tile_changes_head", "head"),
)
