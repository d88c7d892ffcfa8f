"""Create, update and delete any record: validate, resolve, version, audit — one call, one write.

Entity-specific rules (the hazard ledger, releases of activities) plug in as hooks
(``services.records.hooks``), one set per layer, named in ``services.records.rules``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from demine.domain.actors import Actor
from demine.domain.entities import ENTITIES, Entity, entity, label
from demine.domain.errors import Conflict, Invalid, NotFound, PreconditionFailed, Problem
from demine.domain.geometry_rules import as_multipolygon, check_geometry
from demine.domain.permissions import initial_review_status
from demine.domain.validation import coerce_record
from demine.services import audit
from demine.services.access import owned_rows
from demine.services.access.permissions import REFERENCE, redact, require_visible
from demine.services.access.require import allowed, require
from demine.services.records import history, proposals
from demine.services.records.hooks import Change, Hooks
from demine.services.records.resolver import Resolver
from demine.services.records.rules import hooks_for
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import organisations, table

APPROVED = "approved"


def create_record(
    uow: UnitOfWork,
    *,
    actor: Actor,
    layer: str,
    data: dict[str, Any],
    resolver: Resolver | None = None,
) -> dict[str, Any]:
    """Validate and store one new record with its audit entry; returns the stored row."""
    ent = entity(layer)
    resolver = resolver or Resolver(uow, actor)
    if not allowed(actor, "organisation.act_for_any") and \
            data.get("organisation") in (None, "") and data.get("organisation_id") in (None, ""):
        data = {**data, "organisation_id": actor.organisation_id}
    def check(values: dict[str, Any], record: str) -> None:
        require(actor, "record.create", values, layer=layer, uow=uow, label=record)

    change = _prepare(uow, actor, ent, data, resolver, old=None, allowed=check)
    t = table(layer)
    values = change.values
    values["code"] = _code_for(uow, actor, ent, data.get("code"), change.label)
    explicit_id = _free_id(uow, ent, data.get("id"), change.label)
    values.update({"id": explicit_id} if explicit_id is not None
                  else dialect.new_id_values(uow.conn, layer))
    if ent.versioned:
        values.update(version=1, recorded_at=uow.now, recorded_by=actor.name)
        values["sensitivity"] = values.get("sensitivity") or "shared"
        values["review_status"] = _review_status(actor, values.get("review_status"))
    elif "created_at" in table(layer).c:
        values["created_at"] = uow.now
    try:
        record_id = uow.conn.execute(insert(t).returning(t.c.id), values).scalar_one()
    except IntegrityError as exc:  # the caller's transaction (or savepoint) is rolled back
        raise Conflict(f"{change.label} collides with a stored record "
                       f"({_constraint(exc)})") from None
    if explicit_id is not None:
        dialect.sync_id_sequence(uow.conn, layer)
    row = _after_write(change, layer, record_id)
    resolver.remember(layer, row["code"], record_id)
    audit.append(uow, actor=actor, action=f"{layer}.create", table=layer, record_id=record_id,
                 code=row["code"], after=row, detail=_detail(change))
    return redact(actor, layer, row)


def update_record(
    uow: UnitOfWork,
    *,
    actor: Actor,
    layer: str,
    record_id: int,
    changes: dict[str, Any],
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Apply changes to one record, keeping the old version in history."""
    ent = entity(layer)
    old = require(actor, "record.update", record_id, layer=layer, uow=uow)
    _check_version(ent, old, expected_version)
    merged = {**_raw_of(ent, old), **changes}
    def check(values: dict[str, Any], record: str) -> None:
        # where the record goes (its owner, its parent) as well as where it is; the review
        # status asked for is not the one stored (operators' writes go to review)
        moved = {k: v for k, v in values.items() if k != "review_status"}
        require(actor, "record.update", {**old, **moved}, layer=layer, uow=uow, before=old,
                label=record)

    change = _prepare(uow, actor, ent, merged, Resolver(uow, actor), old=old, allowed=check)
    status = _review_status(actor, changes.get("review_status"), old["review_status"]) \
        if ent.versioned else None
    if ent.versioned and old["review_status"] == APPROVED and status != APPROVED:
        # approved data stays official: the edit waits for the authority
        if not proposals.meaningful(changes):
            return get_record(uow, actor=actor, layer=layer, record_id=record_id)
        hooks_for(layer).before_propose(change)
        proposals.propose(uow, actor=actor, layer=layer, old=old, action="update",
                          changes=changes)
        audit.append(uow, actor=actor, action=f"{layer}.propose", table=layer,
                     record_id=record_id, code=old["code"], before=old,
                     detail=audit.canonical({"change": "update", "fields": sorted(changes)}))
        return get_record(uow, actor=actor, layer=layer, record_id=record_id)
    row = _store_update(change, old, status, recorded_by=actor.name)
    audit.append(uow, actor=actor, action=f"{layer}.update", table=layer, record_id=record_id,
                 code=row["code"], before=old, after=row, detail=_detail(change))
    return redact(actor, layer, row)


def apply_proposal(uow: UnitOfWork, *, actor: Actor, layer: str, old: dict[str, Any],
                   proposal: dict[str, Any]) -> dict[str, Any] | None:
    """Apply an approved proposal (as its proposer wrote it); the new row, None if deleted."""
    ent = entity(layer)
    if proposal["base_version"] != old["version"]:
        raise Conflict(f"{ent.label} {old['code']} changed since the proposal; reject it")
    proposals.forget(uow, layer, old["id"])
    if proposal["action"] == "delete":
        _delete(uow, actor, ent, layer, old)
        return None
    merged = {**_raw_of(ent, old), **proposal["changes"]}
    change = _prepare(uow, actor, ent, merged, Resolver(uow), old=old)
    return _store_update(change, old, APPROVED, recorded_by=proposal["proposed_by"])


def _store_update(change: Change, old: dict[str, Any], status: str | None, *,
                  recorded_by: str) -> dict[str, Any]:
    """Write a prepared update as the record's next version; the stored row after hooks."""
    uow, ent, layer = change.uow, change.entity, change.entity.name
    t = table(layer)
    values, where = change.values, [t.c.id == old["id"]]
    if ent.versioned:
        values["review_status"] = status
        history.archive(uow, layer, old, actor=change.actor)
        values.update(version=old["version"] + 1, recorded_at=uow.now, recorded_by=recorded_by)
        where.append(t.c.version == old["version"])
    result = uow.conn.execute(update(t).where(*where).values(**values))
    if result.rowcount != 1:
        raise PreconditionFailed(f"{ent.label} {old['code']} changed meanwhile; reload it")
    return _after_write(change, layer, old["id"])


def delete_record(
    uow: UnitOfWork, *, actor: Actor, layer: str, record_id: int,
    expected_version: int | None = None,
) -> dict[str, Any] | None:
    """Delete one record; its last version stays in history. An operator's deletion of an
    approved record waits for the authority: the record as it stands is returned then."""
    ent = entity(layer)
    old = require(actor, "record.delete", record_id, layer=layer, uow=uow)
    _check_version(ent, old, expected_version)
    if ent.versioned and old["review_status"] == APPROVED and \
            _review_status(actor, None, APPROVED) != APPROVED:
        proposals.propose(uow, actor=actor, layer=layer, old=old, action="delete")
        audit.append(uow, actor=actor, action=f"{layer}.propose", table=layer,
                     record_id=record_id, code=old["code"], before=old,
                     detail=audit.canonical({"change": "delete"}))
        return get_record(uow, actor=actor, layer=layer, record_id=record_id)
    _delete(uow, actor, ent, layer, old)
    return None


def _delete(uow: UnitOfWork, actor: Actor, ent: Entity, layer: str,
            old: dict[str, Any]) -> None:
    record_id = old["id"]
    change = Change(uow, actor, ent, label(ent, old), Resolver(uow, actor), {}, {}, old=old)
    hooks_for(layer).before_delete(change)
    if ent.versioned:
        history.archive(uow, layer, old, actor=actor)
    t = table(layer)
    owned_rows.forget_record(uow, layer, record_id)
    try:
        uow.conn.execute(delete(t).where(t.c.id == record_id))
    except Exception as exc:  # integrity: something still references it
        if "FOREIGN KEY" in str(exc).upper() or "foreign key" in str(exc):
            raise Conflict(f"{change.label} is still referenced by other records") from None
        raise
    audit.append(uow, actor=actor, action=f"{layer}.delete", table=layer, record_id=record_id,
                 code=old["code"], before=old, detail=_detail(change))


def get_record_for_write(uow: UnitOfWork, *, actor: Actor, layer: str,
                         record_id: int) -> dict[str, Any]:
    """``get_record``, holding the record against concurrent writers until the transaction
    ends, so that the ETag a write is checked against is the one it changes (proposals
    included, which leave the row's version as it was)."""
    require_visible(uow, actor, layer, record_id)
    dialect.lock_row(uow.conn, table(layer), record_id)
    return get_record(uow, actor=actor, layer=layer, record_id=record_id)


def get_record(uow: UnitOfWork, *, actor: Actor, layer: str, record_id: int) -> dict[str, Any]:
    """One record as ``actor`` may see it (NotFound when it may not), with the change waiting
    on it for its owner and the authority."""
    require_visible(uow, actor, layer, record_id)
    row = redact(actor, layer, _row(uow, layer, record_id))
    reviewed = layer in ENTITIES and ENTITIES[layer].versioned  # proposals: records only
    if reviewed and allowed(actor, "record.read_pending", row):
        waiting = proposals.pending(uow, layer, record_id)
        if waiting is not None:
            row["pending_change"] = proposals.shown(waiting, lambda d: redact(actor, layer, d))
    return row


def _review_status(actor: Actor, asked: str | None, current: str | None = None) -> str:
    """Operators' writes go (back) to review; the authority and admins may set it."""
    if allowed(actor, "record.set_review_status"):
        return asked or current or "approved"
    return initial_review_status(actor)


def _check_version(ent: Entity, old: dict[str, Any], expected: int | None) -> None:
    if expected is not None and ent.versioned and old["version"] != expected:
        raise PreconditionFailed(
            f"{ent.label} {old['code']} is at version {old['version']}, not {expected}"
        )


def _prepare(uow, actor, ent, data, resolver, old, allowed=None) -> Change:
    """Coerce, check and resolve a record; ``allowed`` refuses the actor before the entity's
    rules run (a refusal by role or owner comes before any finding about the content)."""
    record = label(ent, data)
    values, problems = coerce_record(ent, data, record=record, latest=uow.latest_day)
    geom = data.get("geometry", data.get("geom"))
    if ent.geometry:
        problems += check_geometry(
            geom, record=record, expected=ent.geometry,
            max_vertices=uow.settings.max_vertices,
            extent=resolver.extent() if ent.located else None,
        )
        if not problems:
            values["geom"] = as_multipolygon(geom) if "Polygon" in ent.geometry else geom
    problems += resolver.resolve(ent, values, record=record)
    if not problems and allowed is not None:
        allowed(values, record)
    change = Change(uow, actor, ent, record, resolver, data, values, old=old)
    if not problems:
        problems += hooks_for(ent.name).before_write(change)
    if problems:
        raise Invalid(problems)
    return change


def _raw_of(ent: Entity, row: dict[str, Any]) -> dict[str, Any]:
    raw = {f.name: row.get(f.name) for f in ent.fields}
    raw.update(code=row["code"], geometry=row.get("geom"))
    return raw


def _code_for(uow, actor: Actor, ent: Entity, code: str | None, record: str) -> str:
    t = table(ent.name)
    if code:
        code = str(code).strip()
        prefix = code_prefix(uow, actor) if ent.name not in REFERENCE else None
        if prefix and not _in_own_space(uow, code, prefix):  # named without the code
            raise Invalid(Problem(f"{ent.label} (new)", "code", f"codes chosen by "
                                  f"{prefix[:-1]} start with "
                                  f"{prefix!r}; leave code out to have one assigned"))
        if uow.conn.execute(select(t.c.id).where(t.c.code == code)).first():
            raise Conflict(f"{record}: code: {code} already exists")
        return code
    dialect.lock_codes(uow.conn, ent.name)
    n = (uow.conn.execute(select(func.max(t.c.id))).scalar() or 0) + 1
    while True:
        candidate = f"{ent.code_prefix}-{n:06d}"
        if not uow.conn.execute(select(t.c.id).where(t.c.code == candidate)).first():
            return candidate
        n += 1


def _free_id(uow, ent: Entity, record_id, record: str) -> int | None:
    if record_id is None:
        return None
    try:
        record_id = int(record_id)
    except (TypeError, ValueError):
        reason = f"expected a whole number, got {record_id!r}"
        raise Invalid(Problem(record, "id", reason)) from None
    if not 0 < record_id < 2**31:
        raise Invalid(Problem(record, "id", f"{record_id} is not a valid id"))
    # an id at or below the highest ever used may have named a deleted record: never reused
    return record_id if record_id > dialect.id_floor(uow.conn, ent.name) else None


def _row(uow, layer: str, record_id: int) -> dict[str, Any]:
    t = table(layer)
    row = uow.conn.execute(select(t).where(t.c.id == record_id)).mappings().first()
    if row is None:
        raise NotFound(f"{entity(layer).label} {record_id} not found")
    return dict(row)


def _constraint(exc: IntegrityError) -> str:
    """The constraint a write broke, without the SQL around it."""
    text = str(exc.orig).splitlines()[0]
    return text.split("DETAIL")[0].strip()[:200]


def _after_write(change: Change, layer: str, record_id: int) -> dict[str, Any]:
    """Run the entity's follow-up writes, if it has any; the stored row after them."""
    hooks = hooks_for(layer)
    if type(hooks).after_write is not Hooks.after_write:
        hooks.after_write(change, _row(change.uow, layer, record_id))
    return _row(change.uow, layer, record_id)


def code_prefix(uow: UnitOfWork, actor: Actor) -> str | None:
    """How codes an organisation chooses must start ("HALO-"): each organisation numbers in
    its own space, so a chosen code never collides with, nor reveals, another's hidden
    record. Administrators (the local command line, bulk loads) choose freely."""
    if allowed(actor, "organisation.act_for_any") or actor.organisation_id is None:
        return None
    org = uow.conn.execute(select(organisations.c.code).where(
        organisations.c.id == actor.organisation_id)).scalar()
    return f"{org}-" if org else None


def _in_own_space(uow: UnitOfWork, code: str, prefix: str) -> bool:
    """Whether a chosen code lies in the actor's organisation's space: it starts with its
    code and a hyphen, and with no longer code of another organisation ("OPA-B-1" is OPA-B's,
    not OPA's)."""
    if not code.startswith(prefix):
        return False
    longer = uow.conn.execute(select(organisations.c.code).where(
        func.length(organisations.c.code) > len(prefix) - 1)).scalars()
    return not any(code.startswith(f"{other}-") for other in longer
                   if other.startswith(prefix))


def _detail(change: Change) -> str | None:
    return audit.canonical(change.detail) if change.detail else None
