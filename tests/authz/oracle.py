"""The oracle: who may see and change what, over rows read straight from the store with plain
SQLAlchemy. It imports nothing of demine's permission code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, inspect, text

from .rules import (
    ALL_LAYERS,
    CHILD_LAYERS,
    DEMO_DOMAIN,
    DERIVED_LAYERS,
    DERIVED_PARENT,
    DESTROYED,
    EXTRA,
    FIELD_LAYERS,
    LEDGER,
    PARENT_LAYERS,
    PERSONAL_GRANT,
    QA_LAYERS,
    REFERENCE_LAYERS,
    REFS,
)

# --- The oracle ---------------------------------------------------------------------------

@dataclass(frozen=True)
class User:
    """A demo sign-in as stored."""

    role: str
    id: int
    email: str
    org: int
    org_kind: str
    grants: frozenset[str]

    @property
    def at_authority(self) -> bool:
        """Whether the user belongs to the national authority."""
        return self.org_kind == "authority"


@dataclass(frozen=True)
class Rec:
    """One stored row (the columns the oracle reads)."""

    layer: str
    row: dict = field(compare=True, hash=False)

    def __getattr__(self, name: str) -> Any:  # id, code, name, organisation_id, ...
        try:
            return self.__dict__["row"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def org(self) -> int | None:
        """The owning organisation."""
        return self.row.get("organisation_id")

    @property
    def status(self) -> str | None:
        """The review status."""
        return self.row.get("review_status")

    @property
    def url(self) -> str:
        """The item route."""
        return f"/api/v1/{self.layer}/{self.row['id']}"


class Oracle:
    """Who may see and change what: the issue's rules over rows read straight from the store."""

    def __init__(self, url: str):
        self.engine = create_engine(url)
        self._cols: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            self.orgs = {r.id: (r.code, r.kind) for r in conn.execute(
                text("SELECT id, code, kind FROM organisations"))}
            self.users = {r.role: User(r.role, r.id, r.email, r.organisation_id, r.kind,
                                       frozenset(g for g in (r.grants or "").split(",") if g))
                          for r in conn.execute(text(
                              "SELECT u.id, u.email, u.role, u.organisation_id, u.grants, o.kind"
                              " FROM users u JOIN organisations o ON o.id = u.organisation_id"
                              " WHERE u.email LIKE :domain"), {"domain": f"%@{DEMO_DOMAIN}"})}
            self.staff = {r.organisation_id: r.email for r in conn.execute(text(
                "SELECT organisation_id, email FROM users ORDER BY id"))}
            self.partners = {(r.owner_id, r.partner_id) for r in conn.execute(
                text("SELECT owner_id, partner_id FROM sharing_agreements"))}
            self.tasked = {(r.hazard_id, r.organisation_id) for r in conn.execute(
                text("SELECT hazard_id, organisation_id FROM taskings"))}
            self.named_orgs: dict[tuple, set[int]] = {}
            self.named_users: dict[tuple, set[int]] = {}
            for t, rid, org, user in conn.execute(text(
                    "SELECT table_name, record_id, organisation_id, user_id FROM record_grants")):
                target = self.named_orgs if org is not None else self.named_users
                target.setdefault((t, rid), set()).add(org if org is not None else user)
            self.records = {layer: self._read(conn, layer)
                            for layer in (*ALL_LAYERS, *DERIVED_LAYERS)}

    # reading

    def _columns(self, conn, layer: str) -> list[str]:
        if layer not in self._cols:
            present = {c["name"] for c in inspect(conn).get_columns(layer)}
            wanted = ["id", "code", "name", "organisation_id", "sensitivity", "review_status",
                      "recorded_by", "version", *REFS, *EXTRA.get(layer, ())]
            self._cols[layer] = [c for c in dict.fromkeys(wanted) if c in present]
        return self._cols[layer]

    def _read(self, conn, layer: str, record_id: int | None = None) -> dict[int, Rec]:
        sql = f"SELECT {', '.join(self._columns(conn, layer))} FROM {layer}"
        if record_id is not None:
            sql += " WHERE id = :id"
        rows = conn.execute(text(sql), {"id": record_id}).mappings()
        return {r["id"]: Rec(layer, dict(r)) for r in rows}

    def refresh(self, layer: str, record_id: int) -> Rec | None:
        """Re-read one record (and its parent) as stored now; None once it is gone."""
        with self.engine.connect() as conn:
            found = self._read(conn, layer, record_id)
            if layer in CHILD_LAYERS and found:
                fk, parent = CHILD_LAYERS[layer]
                self.records[parent].update(self._read(conn, parent, found[record_id].row[fk]))
        self.records[layer].pop(record_id, None)
        self.records[layer].update(found)
        return found.get(record_id)

    def has_column(self, layer: str, name: str) -> bool:
        """Whether the oracle reads this column of the layer."""
        return name in self._cols[layer]

    def reload(self, layer: str) -> None:
        """Re-read a whole layer."""
        with self.engine.connect() as conn:
            self.records[layer] = self._read(conn, layer)

    def close(self) -> None:
        """Release the engine."""
        self.engine.dispose()

    # the rules

    def parent(self, rec: Rec) -> Rec | None:
        """The record a child row belongs to."""
        fk, layer = CHILD_LAYERS[rec.layer]
        return self.records[layer].get(rec.row[fk])

    def owner(self, rec: Rec) -> int | None:
        """The organisation owning a record (a child's is its parent's)."""
        if rec.layer in CHILD_LAYERS:
            parent = self.parent(rec)
            return parent.org if parent else None
        return rec.org

    def sees(self, role: str, rec: Rec) -> bool:
        """Need-to-know: may ``role`` see ``rec`` at all?"""
        if rec.layer in REFERENCE_LAYERS:
            return True
        if rec.layer in CHILD_LAYERS:
            parent = self.parent(rec)
            return parent is not None and self.sees(role, parent)
        if rec.layer in DERIVED_PARENT:
            fk, layer = DERIVED_PARENT[rec.layer]
            parent = self.records[layer].get(rec.row[fk])
            return parent is not None and self.sees(role, parent)
        if rec.layer in PARENT_LAYERS:  # its own columns *and* its parent
            fk, layer = PARENT_LAYERS[rec.layer]
            parent = self.records[layer].get(rec.row[fk])
            if parent is None or not self.sees(role, parent):
                return False
        user = self.users.get(role)
        if user is None:  # anonymous: public, approved records only
            return rec.sensitivity == "public" and rec.status == "approved"
        if user.role == "admin":
            return True
        key = (rec.layer, rec.id)
        named_user = user.id in self.named_users.get(key, ())
        if rec.org == user.org:  # own organisation: all but confidential ones I'm not on
            return rec.sensitivity != "confidential" or named_user
        # others only see approved data of others; the authority also sees submitted data
        if rec.status != "approved" and not (rec.status == "submitted" and user.at_authority):
            return False
        return {"public": True,
                "shared": user.at_authority or (rec.org, user.org) in self.partners,
                "restricted": user.org in self.named_orgs.get(key, ()),
                "confidential": named_user}[rec.sensitivity]

    def may_write(self, role: str, action: str, layer: str, rec: Rec | None = None,
                  owner: int | None = None) -> bool:
        """May ``role`` create / update / delete / review (a record it can see)?"""
        user = self.users.get(role)
        if user is None or role == "viewer":
            return False
        if role == "admin":
            return True
        if action == "review":
            return role == "authority"
        if layer == "organisations" and action == "delete":
            return False  # its agreements and grants go with it: the admin's call
        if layer in REFERENCE_LAYERS:
            return role == "authority"
        if rec is not None:
            owner = self.owner(rec)
        if owner != user.org:
            return False
        if role == "inspector":
            return layer in QA_LAYERS
        if role == "reporter":
            if layer not in FIELD_LAYERS:
                return False
            if action == "create":
                return True
            base = self.parent(rec) if layer in CHILD_LAYERS else rec
            return base.recorded_by == user.email and base.status != "approved"
        return role in ("operator", "authority")

    def works_on(self, role: str, hazard_id: int | None, org: int) -> bool:
        """May records of ``org`` be made on the hazard (owner, authority, tasked)?"""
        user = self.users.get(role)
        hazard = self.records["hazards"].get(hazard_id)
        if hazard_id is None or user is None or role == "admin" or user.at_authority:
            return True
        return hazard is not None and (hazard.org == org or (hazard_id, org) in self.tasked)

    def hidden_refs(self, role: str, rec: Rec) -> list[Rec]:
        """Need-to-know records ``rec`` names that ``role`` cannot see."""
        named = [self.records[t].get(rec.row[c]) for c, t in REFS.items()
                 if rec.row.get(c) is not None]
        return [r for r in named if r is not None and not self.sees(role, r)]

    def sees_personal(self, role: str) -> bool:
        """Casualty personal fields need the grant."""
        user = self.users.get(role)
        return user is not None and PERSONAL_GRANT in user.grants

    def enters_as(self, role: str) -> str:
        """The review status a role's writes get: operator data enters as submitted."""
        user = self.users[role]
        return "approved" if role == "admin" or user.at_authority else "submitted"

    def visible(self, role: str, layer: str) -> list[Rec]:
        """What a list of ``layer`` must hold for ``role``."""
        return [r for r in self.records[layer].values() if self.sees(role, r)]

    # planning

    def cell(self, role: str, rec: Rec) -> tuple:
        """The class of ``rec`` relative to ``role`` (targets are one record per cell)."""
        if rec.layer in REFERENCE_LAYERS:
            return ("reference",)
        if rec.layer in CHILD_LAYERS:
            parent = self.parent(rec)
            return ("child", *(self.cell(role, parent) if parent else ()))
        user = self.users.get(role)
        org, uid = (user.org, user.id) if user else (None, None)
        key = (rec.layer, rec.id)
        granted = {"shared": (rec.org, org) in self.partners,  # the owner shares with me
                   "restricted": org in self.named_orgs.get(key, ()),  # my org is named
                   "confidential": uid in self.named_users.get(key, ())}  # I am named
        mine = bool(user and role == "reporter" and rec.recorded_by == user.email)
        return ("same" if rec.org == org else "other", rec.sensitivity, rec.status,
                granted.get(rec.sensitivity, False), mine)

    def targets(self, role: str, layer: str) -> list[Rec]:
        """One record per cell, lowest id first."""
        picked: dict[tuple, Rec] = {}
        for rid in sorted(self.records[layer]):
            rec = self.records[layer][rid]
            picked.setdefault(self.cell(role, rec), rec)
        return list(picked.values())

    def search(self, role: str, layer: str, q: str) -> set[int]:
        """Ids a case-insensitive search of code and name must return."""
        q = q.lower()
        return {r.id for r in self.visible(role, layer)
                if q in (r.code or "").lower() or q in (r.row.get("name") or "").lower()}

    def stats(self, role: str, by_org: bool = False) -> dict:
        """Land-release totals (and per organisation) over visible, approved records."""
        groups: dict[str, dict] = {}

        def group(org: int | None) -> dict:
            name = self.orgs[org][0] if by_org and org in self.orgs else "all"
            return groups.setdefault(name, {"ledger": dict.fromkeys(LEDGER, 0.0),
                                            "eo": Counter()})

        for rec in self.visible(role, "hazards"):
            if rec.status == "approved":
                entry = group(rec.org)
                for c in LEDGER:
                    entry["ledger"][c] += rec.row[c] or 0.0
        for rec in self.visible(role, "eo_finds"):
            if rec.status == "approved" and rec.disposal in DESTROYED:
                group(rec.org)["eo"][rec.category] += rec.quantity
        return groups
