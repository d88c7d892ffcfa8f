"""If-Match on writes to one record, for the REST API and OGC API Features alike.

A write (PATCH, PUT, DELETE, review) names the ETag of the version it was made against; the
record is read and held for the transaction, and the write goes ahead only if that ETag is
still the record's (412 otherwise). Where If-Match is required and missing: 428, before the
record is looked up. The two APIs differ only in their policy: the REST API always requires it
and compares strongly; QGIS sends none and some GIS clients weaken ETags, so OGC API Features
requires it only when ``DEMINE_OGC_REQUIRE_IF_MATCH`` is set and accepts ``W/`` tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from demine.domain.actors import Actor
from demine.domain.errors import PreconditionFailed, PreconditionRequired
from demine.services.records import crud as record_service
from demine.storage.database import UnitOfWork
from demine.web.api.serialise import etag


@dataclass(frozen=True)
class IfMatchPolicy:
    """How one API treats If-Match: whether it must be sent, whether a weak tag counts, and
    what the API calls a record in its messages."""

    required: bool
    weak_matches: bool
    noun: str


REST = IfMatchPolicy(required=True, weak_matches=False, noun="record")


def ogc_policy(uow: UnitOfWork) -> IfMatchPolicy:
    """OGC API Features: If-Match optional unless the store's settings require it."""
    return IfMatchPolicy(required=uow.settings.ogc_require_if_match, weak_matches=True,
                         noun="feature")


def matching_record(uow: UnitOfWork, *, actor: Actor, layer: str, record_id: int,
                    if_match: str | None, policy: IfMatchPolicy) -> dict[str, Any]:
    """The record as it stands, held until the transaction ends, provided ``if_match`` names
    its current ETag (or is ``*``, or is absent where ``policy`` allows that)."""
    if not if_match and policy.required:
        raise PreconditionRequired(f"send If-Match with the {policy.noun}'s ETag")
    current = record_service.get_record_for_write(uow, actor=actor, layer=layer,
                                                  record_id=record_id)
    if not if_match or if_match.strip() == "*":
        return current
    tags = [t.strip() for t in if_match.split(",")]
    if policy.weak_matches:
        tags = [t.removeprefix("W/") for t in tags]
    if etag(current) not in tags:
        raise PreconditionFailed(f"the {policy.noun} changed since you read it (ETag mismatch)")
    return current
