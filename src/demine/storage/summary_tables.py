"""Derived summary tables (imported by tables.py): figures the database keeps from the
records so that statistics need not read every record."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from demine.storage.tables import metadata

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
