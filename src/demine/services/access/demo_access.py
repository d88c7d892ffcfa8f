"""Demo sign-ins (one per role), sharing agreements and names on restricted records."""

from __future__ import annotations

from sqlalchemy import insert, select

from demine.domain.actors import PERSONAL_GRANT, Actor
from demine.services import audit
from demine.services.access.accounts import add_user
from demine.services.access.sharing import add_sharing_agreement
from demine.storage.database import UnitOfWork
from demine.storage.tables import VERSIONED, organisations, record_grants, table

DOMAIN = "demo.demine.org"
# role → (organisation kind, grants); the organisation is the first of that kind.
ROLES = {
    "admin": ("authority", (PERSONAL_GRANT,)),
    "authority": ("authority", (PERSONAL_GRANT,)),
    "operator": ("operator", ()),
    "reporter": ("operator", ()),
    "inspector": ("authority", ()),
    "viewer": ("ngo", ()),
}


def demo_password(role: str) -> str:
    """The published password of a demo account (demo data only)."""
    return f"demine-demo-{role}"


def add_demo_access(uow: UnitOfWork, *, actor: Actor) -> list[dict[str, str]]:
    """Create the demo sign-ins and need-to-know grants; returns the sign-ins."""
    orgs = uow.conn.execute(select(organisations.c.id, organisations.c.code,
                                   organisations.c.kind).order_by(organisations.c.id)).all()
    first = {}
    for org in orgs:
        first.setdefault(org.kind, org)
    logins = []
    for role, (kind, grants) in ROLES.items():
        org = first.get(kind) or orgs[0]
        email = f"{role}@{DOMAIN}"
        add_user(uow, actor=actor, email=email, organisation=org.code, role=role,
                 password=demo_password(role), name=f"Demo {role}", grants=grants)
        logins.append({"email": email, "password": demo_password(role), "role": role,
                       "organisation": org.code})
    _share(uow, actor, [o for o in orgs if o.kind != "authority"])
    _name_on_records(uow, actor, [o.id for o in orgs])
    _task(uow, actor)
    return logins


def _share(uow: UnitOfWork, actor: Actor, partners) -> None:
    """Each non-authority organisation shares with the next one (a ring)."""
    for i, org in enumerate(partners):
        other = partners[(i + 1) % len(partners)]
        if other.id != org.id:
            add_sharing_agreement(uow, actor=actor, owner=org.code, partner=other.code)


def _name_on_records(uow: UnitOfWork, actor: Actor, org_ids: list[int]) -> None:
    """Restricted records name one other organisation; confidential ones the owner's users."""
    from demine.storage.tables import users

    staff = dict(uow.conn.execute(select(users.c.organisation_id, users.c.id)).all())
    rows = []
    for name in VERSIONED:
        t = table(name)
        found = uow.conn.execute(select(t.c.id, t.c.organisation_id, t.c.sensitivity).where(
            t.c.sensitivity.in_(("restricted", "confidential")))).all()
        for record_id, owner, sensitivity in found:
            if sensitivity == "restricted":
                other = org_ids[(org_ids.index(owner) + 1) % len(org_ids)]
                rows.append({"table_name": name, "record_id": record_id,
                             "organisation_id": other, "user_id": None})
            elif owner in staff:
                rows.append({"table_name": name, "record_id": record_id,
                             "organisation_id": None, "user_id": staff[owner]})
    if rows:
        uow.conn.execute(insert(record_grants), rows)
        audit.append(uow, actor=actor, action="record_grants.demo", table="record_grants",
                     detail=audit.canonical({"rows": len(rows)}))


def _task(uow: UnitOfWork, actor: Actor) -> None:
    """The demo's work on others' hazards was tasked by the authority."""
    from demine.storage.tables import hazards, taskings

    pairs = set()
    for name in ("activities", "eo_finds"):
        t = table(name)
        pairs |= set(uow.conn.execute(select(t.c.hazard_id, t.c.organisation_id).distinct()
                                      .join(hazards, hazards.c.id == t.c.hazard_id).where(
            hazards.c.organisation_id != t.c.organisation_id)).all())
    if pairs:
        uow.conn.execute(insert(taskings), [
            {"hazard_id": h, "organisation_id": o, "created_at": uow.now,
             "created_by": actor.name} for h, o in sorted(pairs)])
        audit.append(uow, actor=actor, action="taskings.demo", table="taskings",
                     detail=audit.canonical({"rows": len(pairs)}))
