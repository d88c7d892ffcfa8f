"""May this actor do this? The one entry point for writes and administration, beside
``visible()`` (who may see what, as SQL) in ``permissions.py``.

``require(actor, action, record)`` raises the error the rule of ``action`` gives (the rules, and
the vocabulary of actions, are ``demine.domain.permissions.RULES``); ``allowed()`` answers the
same question yes or no. Given the id of a stored record, ``require`` puts it to the visibility
predicate first: a record the actor may not see is not found, with the same status and message
as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from demine.domain.actors import Actor
from demine.domain.entities import ENTITIES
from demine.domain.entities import label as record_label
from demine.domain.errors import NotFound
from demine.domain.permissions import Target, refusal
from demine.services.access.permissions import CHILDREN, require_visible
from demine.storage.database import UnitOfWork
from demine.storage.tables import table

Record = Mapping[str, Any] | int | None


def require(actor: Actor, action: str, record: Record = None, *, layer: str | None = None,
            uow: UnitOfWork | None = None, before: Mapping[str, Any] | None = None,
            label: str | None = None) -> dict[str, Any] | None:
    """Raise unless ``actor`` may do ``action`` to ``record`` (a row of ``layer``).

    ``record`` is None (an action on no record), a row (as stored, or as it would be after the
    action), or the id of a stored row of ``layer``, read through ``uow`` once the visibility
    predicate lets the actor see it; that row is returned. With ``uow``, a child row (a
    beneficiary count, a non-conformity) is judged as owned by its parent's organisation.
    ``before`` is the stored row a change starts from; ``label`` names the record in messages.
    """
    stored = None
    if isinstance(record, int):
        if uow is None or layer is None:
            raise TypeError("require() of a stored record needs its layer and a unit of work")
        stored = _visible_row(uow, actor, layer, record)
        record = stored
    found = refusal(actor, action, _target(uow, layer, record, before, label))
    if found is not None:
        raise found.error(found.reason)
    return stored


def allowed(actor: Actor, action: str, record: Mapping[str, Any] | None = None, *,
            layer: str | None = None, uow: UnitOfWork | None = None,
            before: Mapping[str, Any] | None = None) -> bool:
    """Whether ``actor`` may do ``action`` to ``record`` (``require`` without raising)."""
    return refusal(actor, action, _target(uow, layer, record, before, None)) is None


def _target(uow: UnitOfWork | None, layer: str | None, record: Mapping[str, Any] | None,
            before: Mapping[str, Any] | None, name: str | None) -> Target:
    if record is not None and name is None and layer in ENTITIES:
        name = record_label(ENTITIES[layer], record)
    if uow is not None and layer is not None and record is not None:
        record = _owned(uow, layer, record)
    return Target(layer=layer, record=record, before=before, label=name)


def _visible_row(uow: UnitOfWork, actor: Actor, layer: str, record_id: int) -> dict[str, Any]:
    """The stored row, provided ``actor`` may see it (NotFound as for a missing one)."""
    require_visible(uow, actor, layer, record_id)
    t = table(layer)
    row = uow.conn.execute(select(t).where(t.c.id == record_id)).mappings().first()
    if row is None:  # deleted since, by another transaction
        raise NotFound(f"{layer} {record_id} not found")
    return dict(row)


def _owned(uow: UnitOfWork, layer: str, record: Mapping[str, Any]) -> Mapping[str, Any]:
    """A child row (beneficiary count, non-conformity) is owned by its parent's organisation."""
    parent = CHILDREN.get(layer)
    if parent is None or "organisation_id" in record:
        return record
    fk, parent_layer = parent
    p = table(parent_layer)
    owner = uow.conn.execute(select(p.c.organisation_id).where(p.c.id == record.get(fk))).scalar()
    return {**record, "organisation_id": owner}
