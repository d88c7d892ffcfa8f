"""Who may see what, as SQL: the one predicate every list, count, export and statistic uses.

Need-to-know by sensitivity: ``public`` (anyone, approved records), ``shared`` (owner, the
authority, partners named in the owner's sharing agreements), ``restricted`` (owner and
organisations named on the record), ``confidential`` (users named on the record). Others'
unapproved records are seen only by the owner and, to review them, by the authority.
Lists are filtered in SQL, never in Python after the fact; one record is checked with the
same predicate (see ``require_visible``), so a record one may not see is simply not found.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, and_, exists, false, or_, select, true

from demine.domain import entities
from demine.domain.actors import Actor
from demine.domain.entities import REGISTRY, layers
from demine.domain.errors import NotFound
from demine.domain.permissions import sees_personal_data
from demine.storage.tables import record_grants, sharing_agreements, table

REFERENCE = frozenset(layers(group=entities.REFERENCE))
# Records that belong to another and are seen exactly where it is, so a parent made
# restricted hides its children everywhere (API, OGC API, tiles, exports, statistics).
CHILDREN = {name: REGISTRY[name].parent for name in layers(seen=entities.AS_PARENT)}
# Children that carry a copy of their parent's need-to-know columns, kept equal to the
# parent's on every write (services.records.activities.FOLLOWS; `demine check` compares
# them): a land release is seen where its activity is, decided on its own columns (no join
# per release on tiles and pages) with the grants that name the activity.
MIRRORS = {name: REGISTRY[name].parent for name in layers(seen=entities.PARENT_COPY)}
# Records that belong to another but carry need-to-know of their own (a casualty's personal
# data): seen where their own columns allow *and* their parent is seen.
PARENTS = {name: REGISTRY[name].parent for name in layers(seen=entities.OWN_AND_PARENT)}
PRIVATE = frozenset({"users", "api_tokens", "login_failures", "record_grants",
                     "sharing_agreements", "audit_log", "taskings", "pending_changes",
                     "id_high_water"})
# Summaries of a layer's rows, keyed by the columns the predicate reads except the record id:
# the rows whose visibility needs per-record grants (restricted, confidential) are decided
# there, so a summary row is visible to non-administrators only when it is public or shared.
SUMMARIES = {"eo_tallies": "eo_finds"}
GRANTLESS = ("public", "shared")


def sees_all(actor: Actor) -> bool:
    """Whether ``visible`` keeps every row for ``actor`` (an administrator): a read may skip
    asking it row by row."""
    return actor.is_admin


def visible(actor: Actor, t: Table):
    """A WHERE clause keeping the rows of ``t`` (a table, history table or alias) ``actor`` sees."""
    base = getattr(t, "element", t).name.removesuffix("_history")
    if sees_all(actor):
        return true()
    if base in REFERENCE:
        return true()
    if base in PRIVATE:
        return false()
    if base in SUMMARIES:
        return and_(t.c.sensitivity.in_(GRANTLESS), _by_sensitivity(actor, t, SUMMARIES[base]))
    parent = CHILDREN.get(base)
    if parent:
        fk, parent_name = parent
        p = table(parent_name).alias(f"{parent_name}_parent")
        return exists().where(p.c.id == t.c[fk], visible(actor, p))
    if "review_status" not in t.c:  # no need-to-know columns: nothing for non-admins
        return false()
    if base in MIRRORS:
        fk, parent_name = MIRRORS[base]
        return _by_sensitivity(actor, t, parent_name, t.c[fk])
    own = _by_sensitivity(actor, t, base)
    if base in PARENTS:
        fk, parent_name = PARENTS[base]
        p = table(parent_name).alias(f"{parent_name}_parent")
        return and_(own, exists().where(p.c.id == t.c[fk], visible(actor, p)))
    return own


def scope_key(actor: Actor, named: bool = True) -> str:
    """What ``visible`` reads of the actor, as a key: two actors with the same key see the same
    rows (caches of what was seen, such as tiles, are shared by key and never across keys).
    The user counts only when ``named``: some record names them (``named_on_records``);
    otherwise every user of one organisation sees the same rows, whatever their role."""
    if actor.is_admin:
        return "admin"
    if actor.organisation_id is None:
        return "public"
    user = actor.user_id if named else "any user"
    return f"{actor.organisation_id}|{actor.organisation_kind}|{user}"


def named_on_records(uow, actor: Actor) -> bool:
    """Whether a record grant names the actor's user (confidential records): only then does
    what they see depend on who they are, beyond their organisation."""
    if actor.user_id is None:
        return False
    return uow.conn.execute(select(record_grants.c.id).where(
        record_grants.c.user_id == actor.user_id).limit(1)).first() is not None


def _by_sensitivity(actor: Actor, t, base: str, record_id=None):
    """``t``'s rows ``actor`` sees by their need-to-know columns; grants are those naming
    ``base``'s record ``record_id`` (the row itself unless a mirror names its parent)."""
    approved = t.c.review_status == "approved"
    public = and_(t.c.sensitivity == "public", approved)
    if actor.organisation_id is None:
        return public
    if record_id is None and "id" in t.c:
        record_id = t.c.id
    if record_id is not None:
        named_user = exists().where(
            record_grants.c.table_name == base, record_grants.c.record_id == record_id,
            record_grants.c.user_id == actor.user_id)
        named_org = exists().where(
            record_grants.c.table_name == base, record_grants.c.record_id == record_id,
            record_grants.c.organisation_id == actor.organisation_id)
    else:  # a summary: its caller keeps only rows that need no grant
        named_user = named_org = false()
    partner = exists().where(
        sharing_agreements.c.owner_id == t.c.organisation_id,
        sharing_agreements.c.partner_id == actor.organisation_id)
    own = and_(t.c.organisation_id == actor.organisation_id,
               or_(t.c.sensitivity != "confidential", named_user))
    shared = and_(t.c.sensitivity == "shared", true() if actor.at_authority else partner)
    others = or_(t.c.sensitivity == "public", shared,
                 and_(t.c.sensitivity == "restricted", named_org),
                 and_(t.c.sensitivity == "confidential", named_user))
    reviewable = or_(approved, t.c.review_status == "submitted") if actor.at_authority \
        else approved
    return or_(own, and_(reviewable, others))


def require_visible(uow, actor: Actor, layer: str, record_id: int) -> None:
    """Raise NotFound unless ``actor`` may see the record (the same predicate as lists)."""
    t = table(layer)
    found = uow.conn.execute(
        select(t.c.id).where(t.c.id == record_id, visible(actor, t))).first()
    if found is None:
        raise NotFound(f"{layer} {record_id} not found")


def redact(actor: Actor, layer: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row without personal fields the actor may not read (casualties)."""
    if layer.removesuffix("_history") != "casualties" or sees_personal_data(actor):
        return row
    t = table("casualties")
    return {k: (None if k in t.c and t.c[k].info.get("sensitive") else v)
            for k, v in row.items()}
