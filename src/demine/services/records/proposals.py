"""Changes proposed to approved records: the approved version stays official until decided.

An operator's edit or deletion of an approved record is not applied: it is kept here, one per
record, shown to the record's owner and to the authority (``pending_change`` on the record),
and applied when the authority approves it or dropped when it rejects it. Until then every
figure, tile, list and public view shows the approved version. Records not yet approved
(submitted, rejected) are edited in place, as before.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import delete, insert, select

from demine.domain.actors import Actor
from demine.storage.database import UnitOfWork
from demine.storage.tables import pending_changes

GEOMETRY = "$geometry"
IGNORED = ("review_status", "review_note", "version", "id", "code")


def _encode(value: Any) -> Any:
    if isinstance(value, BaseGeometry):
        return {GEOMETRY: mapping(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and GEOMETRY in value:
        return shape(value[GEOMETRY])
    return value


def meaningful(changes: dict[str, Any]) -> bool:
    """Whether an edit changes anything a proposal keeps (not only ignored fields)."""
    return any(k not in IGNORED for k in changes)


def pending(uow: UnitOfWork, layer: str, record_id: int) -> dict[str, Any] | None:
    """The change waiting on a record, with its changes decoded (None if there is none)."""
    row = uow.conn.execute(select(pending_changes).where(
        pending_changes.c.table_name == layer,
        pending_changes.c.record_id == record_id)).mappings().first()
    if row is None:
        return None
    found = dict(row)
    found["changes"] = {k: _decode(v) for k, v in json.loads(found["changes"]).items()}
    return found


def propose(uow: UnitOfWork, *, actor: Actor, layer: str, old: dict[str, Any], action: str,
            changes: dict[str, Any] | None = None) -> None:
    """Keep an edit (merged with one already waiting) or a deletion of an approved record."""
    earlier = pending(uow, layer, old["id"])
    merged = dict(earlier["changes"]) if earlier and earlier["action"] == "update" else {}
    merged.update({k: v for k, v in (changes or {}).items() if k not in IGNORED})
    forget(uow, layer, old["id"])
    uow.conn.execute(insert(pending_changes).values(
        table_name=layer, record_id=old["id"], action=action, base_version=old["version"],
        changes=json.dumps({k: _encode(v) for k, v in merged.items()}, sort_keys=True),
        organisation_id=actor.organisation_id, proposed_by=actor.name, proposed_at=uow.now))


def forget(uow: UnitOfWork, layer: str, record_id: int) -> None:
    """Drop the change waiting on a record (decided, or the record is gone)."""
    uow.conn.execute(delete(pending_changes).where(pending_changes.c.table_name == layer,
                                                   pending_changes.c.record_id == record_id))


def shown(found: dict[str, Any] | None, redact) -> dict[str, Any] | None:
    """A waiting change as the API shows it (JSON values; ``redact`` hides personal fields)."""
    if found is None:
        return None
    changes = redact({k: _encode(v) for k, v in found["changes"].items()})
    return {"action": found["action"], "base_version": found["base_version"],
            "proposed_by": found["proposed_by"],
            "proposed_at": found["proposed_at"].isoformat(),
            "changes": {k: (v[GEOMETRY] if isinstance(v, dict) and GEOMETRY in v else v)
                        for k, v in changes.items()}}
