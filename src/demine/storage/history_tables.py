"""History mirrors of the versioned tables (re-exported by tables.py): no update or delete
destroys the previous version."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table

from demine.domain.entities import RECORD, REGISTRY, layers
from demine.storage import (
    access_tables,  # noqa: F401  (registered first, as before the split)
    entity_tables,  # noqa: F401  (the tables mirrored here)
)
from demine.storage.metadata import metadata
from demine.storage.types import Timestamp

# Tables whose rows are versioned: an update or delete keeps the old row in <table>_history.
VERSIONED = tuple(name for name in layers(group=RECORD) if REGISTRY[name].versioned)


def _history_table(source: Table) -> Table:
    """A mirror of ``source`` without constraints, plus the end of each version's validity."""
    columns = [Column("history_id", Integer, primary_key=True, autoincrement=True)]
    for col in source.columns:
        columns.append(Column(col.name, col.type, nullable=True, info=dict(col.info)))
    columns.append(Column("valid_to", Timestamp, nullable=False))
    columns.append(Column("superseded_by", String(200), nullable=False))
    table = Table(f"{source.name}_history", metadata, *columns)
    Index(f"ix_{source.name}_history_id_valid", table.c.id, table.c.valid_to)
    return table


HISTORY: dict[str, Table] = {name: _history_table(metadata.tables[name]) for name in VERSIONED}
