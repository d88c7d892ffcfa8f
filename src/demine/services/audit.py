"""The audit log: one entry per write, each chained to the previous one by its hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, insert, select

from demine.domain.actors import Actor
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import audit_log

GENESIS = "0" * 64


@dataclass(frozen=True)
class _Tail:
    """The last entry of the chain, as this transaction left it."""

    seq: int
    entry_hash: str


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseGeometry):
        return shapely.to_wkb(value, hex=True, byte_order=1, flavor="iso")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value


def canonical(data: dict[str, Any]) -> str:
    """Stable JSON of a record: sorted keys, geometry as WKB hex, dates ISO."""
    return json.dumps(
        {k: _jsonable(v) for k, v in data.items()}, sort_keys=True, separators=(",", ":")
    )


def content_hash(data: dict[str, Any] | None) -> str | None:
    """SHA-256 of a record's canonical content."""
    if data is None:
        return None
    return hashlib.sha256(canonical(data).encode()).hexdigest()


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 over an audit entry's fields and the previous entry's hash."""
    fields = {k: entry.get(k) for k in _CHAINED}
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


_CHAINED = (
    "seq",
    "at",
    "actor",
    "action",
    "table_name",
    "record_id",
    "record_code",
    "before_hash",
    "after_hash",
    "detail",
    "prev_hash",
)


def append(
    uow: UnitOfWork,
    *,
    actor: Actor,
    action: str,
    table: str | None = None,
    record_id: int | None = None,
    code: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    detail: str | None = None,
) -> str:
    """Append one entry to the chain inside the caller's transaction; returns its hash."""
    last = uow.audit_tail
    if last is None:  # first entry of this transaction: lock the chain, read its tail
        dialect.lock_audit_chain(uow.conn)
        last = uow.conn.execute(
            select(audit_log.c.seq, audit_log.c.entry_hash)
            .order_by(audit_log.c.seq.desc()).limit(1)
        ).first()
    entry = {
        "seq": (last.seq + 1) if last else 1,
        "at": uow.now,
        "actor": actor.name,
        "action": action,
        "table_name": table,
        "record_id": record_id,
        "record_code": code,
        "before_hash": content_hash(before),
        "after_hash": content_hash(after),
        "detail": detail,
        "prev_hash": last.entry_hash if last else GENESIS,
    }
    entry["entry_hash"] = entry_hash(entry)
    uow.conn.execute(insert(audit_log), entry)
    uow.audit_tail = _Tail(entry["seq"], entry["entry_hash"])
    return entry["entry_hash"]


def head(uow: UnitOfWork) -> int:
    """The sequence number of the chain's last entry (0 when empty). Every change demine makes
    appends to the chain in the same transaction, and the layers are read-only to other tools
    (guard triggers), so this number changes whenever anything stored has: caches of derived
    data (tiles) are valid while it stays the same."""
    return uow.conn.execute(select(func.max(audit_log.c.seq))).scalar() or 0


def verify(uow: UnitOfWork) -> tuple[int, int | None, str | None]:
    """Recompute the chain: (entries checked, first broken seq or None, why)."""
    prev = GENESIS
    count = 0
    for row in uow.conn.execute(select(audit_log).order_by(audit_log.c.seq)).mappings():
        count += 1
        entry = dict(row)
        if entry["prev_hash"] != prev:
            return count, entry["seq"], "previous-hash link does not match"
        if entry_hash(entry) != entry["entry_hash"]:
            return count, entry["seq"], "entry content does not match its hash"
        prev = entry["entry_hash"]
    return count, None, None


def entries(uow: UnitOfWork, *, actor: Actor, offset: int = 0, limit: int | None = None):
    """The entries in order (all, or one page), as plain dicts with the chained fields
    (admins and authority). An entry about a record the reader may not see (by the one
    permission predicate) keeps its action, actor and time but not which record or what
    changed (``redacted``)."""
    from demine.services.access.permissions import sees_all
    from demine.services.access.require import require

    require(actor, "audit.read")
    query = select(audit_log).order_by(audit_log.c.seq).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    found = [dict(row) for row in uow.conn.execute(query).mappings()]
    unseen = set() if sees_all(actor) else _unseen(uow, actor, map(_names, found))
    for entry in found:
        entry["at"] = _jsonable(entry["at"])
        if _names(entry) in unseen:  # need-to-know: that it happened, not to what
            entry.update(record_id=None, record_code=None, before_hash=None,
                         after_hash=None, detail=None, redacted=True)
        yield entry


def count(uow: UnitOfWork) -> int:
    """How many entries the chain holds (the same for every reader: redacted ones count)."""
    return uow.conn.execute(select(func.count()).select_from(audit_log)).scalar_one()


def _names(entry: dict) -> tuple[str | None, int | None]:
    """The record an entry is about: its own, the one a grant names ("layer:id"), or the
    hazard of a tasking ("hazard id>ORG")."""
    if entry["table_name"] == "record_grants" and entry["record_code"]:
        layer, _, record_id = entry["record_code"].partition(":")
        return layer, int(record_id) if record_id.isdigit() else None
    if entry["table_name"] == "taskings" and entry["record_code"]:  # "hazard id>ORG"
        hazard_id = entry["record_code"].partition(">")[0]
        return "hazards", int(hazard_id) if hazard_id.isdigit() else None
    return entry["table_name"], entry["record_id"]


def _unseen(uow: UnitOfWork, actor: Actor, named) -> set[tuple[str, int]]:
    """The records among ``named`` that ``actor`` may not see: by the one predicate on the
    current row or, for a deleted record, on its last version."""
    from demine.services.access.permissions import PRIVATE, REFERENCE, visible
    from demine.storage.tables import HISTORY, metadata

    ids: dict[str, set[int]] = {}
    for name, record_id in named:
        if (name in metadata.tables and name not in REFERENCE and name not in PRIVATE
                and record_id is not None):
            ids.setdefault(name, set()).add(record_id)
    unseen = set()
    for name, wanted in ids.items():
        t = metadata.tables[name]
        seen, present = set(), set()
        for chunk in _chunks(sorted(wanted)):
            present |= set(uow.conn.execute(select(t.c.id).where(t.c.id.in_(chunk))).scalars())
            seen |= set(uow.conn.execute(select(t.c.id).where(
                t.c.id.in_(chunk), visible(actor, t))).scalars())
        gone = sorted(wanted - present)
        if gone and name in HISTORY:
            h = HISTORY[name]
            last = select(func.max(h.c.history_id)).where(h.c.id.in_(gone)).group_by(h.c.id)
            for chunk in _chunks(list(uow.conn.execute(last).scalars())):
                seen |= set(uow.conn.execute(select(h.c.id).where(
                    h.c.history_id.in_(chunk), visible(actor, h))).scalars())
        unseen |= {(name, record_id) for record_id in wanted - seen}
    return unseen


def _chunks(values: list[int], size: int = 5_000):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def record_entries(uow: UnitOfWork, *, actor: Actor, table_name: str, record_id: int,
                   limit: int = 200) -> list[dict[str, Any]]:
    """The entries about one record, newest first (those who may read the audit log, for a
    record they may see: the caller has put it to the visibility predicate)."""
    from demine.services.access.require import require

    require(actor, "audit.read")
    rows = uow.conn.execute(select(audit_log).where(
        audit_log.c.table_name == table_name, audit_log.c.record_id == record_id)
        .order_by(audit_log.c.seq.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]
