"""Need-to-know rules: who may do what to a record. The SQL form for lists is built from the
same rules in demine.services.access.permissions; this module answers for actions on one record."""

from __future__ import annotations

from typing import Any

from demine.domain.actors import Actor
from demine.domain.entities import ENTITIES, FIELD, QA, RECORD, REFERENCE, layers

# What each role may write, by layer group (from the layer registry).
RECORD_LAYERS = frozenset(name for name in layers(group=RECORD) if name in ENTITIES)
REFERENCE_LAYERS = frozenset(layers(group=REFERENCE))
QA_LAYERS = frozenset(layers(group=RECORD, work=QA))
FIELD_LAYERS = frozenset(name for name in layers(group=RECORD, work=FIELD) if name in ENTITIES)


def refusal(actor: Actor, action: str, layer: str, record: dict[str, Any] | None) -> str | None:
    """Why ``actor`` may not ``action`` (create/update/delete/review) the record; None if it may.

    Visibility is checked before this (a record the actor may not see is not found).
    """
    if "write" not in actor.scopes:
        return "this token is read-only"
    if actor.is_admin:
        return None
    role = actor.role
    if role in (None, "viewer"):
        return "viewers may not change records"
    if action == "review":
        return None if role == "authority" else "only the authority reviews submitted data"
    if layer in REFERENCE_LAYERS:
        return None if role == "authority" else "reference data is kept by the authority"
    if role == "inspector" and layer not in QA_LAYERS:
        return "inspectors record QA inspections and non-conformities only"
    if role == "reporter" and layer not in FIELD_LAYERS:
        return "field reporters record field data only"
    if record is not None and record.get("organisation_id") != actor.organisation_id:
        return "the record belongs to another organisation"
    if role == "reporter" and action != "create" and record is not None and (
            record.get("recorded_by") != actor.name
            or record.get("review_status") == "approved"):
        return "field reporters may change only their own records before approval"
    return None


def initial_review_status(actor: Actor) -> str:
    """Operator data enters as submitted; the authority's own data is approved at once."""
    return "approved" if actor.is_admin or actor.at_authority else "submitted"


def sees_personal_data(actor: Actor) -> bool:
    """Casualty personal fields (name, contact, exact age, address) need a grant."""
    from demine.domain.actors import PERSONAL_GRANT

    return PERSONAL_GRANT in actor.grants
