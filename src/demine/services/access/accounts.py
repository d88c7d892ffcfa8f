"""Accounts: users with one role in one organisation, and tokens (sign-in: access.signin)."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from datetime import timedelta
from typing import Any

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import insert, select, update

from demine.domain.actors import ROLES, Actor
from demine.domain.errors import Conflict, Invalid, NotFound, Problem
from demine.services import audit
from demine.services.access.require import require
from demine.storage.database import UnitOfWork
from demine.storage.tables import api_tokens, organisations, users

# For the test suite only: argon2id at 1 MiB and one pass instead of 64 MiB and three
# (0.3-0.4 s of CPU per hash or verify, paid hundreds of times by a run). Never set it on a
# server: stored hashes would be cheap to attack.
CHEAP_HASH_VARIABLE = "DEMINE_TEST_CHEAP_PASSWORD_HASH"


def _password_hasher() -> PasswordHash:
    """argon2id at the library's recommended cost (hashes keep their own parameters, so a
    hash made at any cost verifies)."""
    if os.environ.get(CHEAP_HASH_VARIABLE) == "1":
        logging.getLogger("demine.accounts").warning(
            "%s=1: passwords are hashed at a test-only cost; never use it on a server",
            CHEAP_HASH_VARIABLE)
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    return PasswordHash.recommended()


password_hasher = _password_hasher()
TOKEN_KINDS = {"api": None, "access": timedelta(hours=1), "session": timedelta(hours=8)}
SCOPES = ("read", "write")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    uow: UnitOfWork, *, actor: Actor, email: str, organisation: str, role: str,
    password: str | None, name: str | None = None, grants: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Create a user of an organisation with one role; the password is stored as argon2id."""
    require(actor, "account.manage")
    record = f"user {email}"
    problems = []
    if role not in ROLES:
        problems.append(Problem(record, "role", f"unknown role {role!r} ({', '.join(ROLES)})"))
    if "@" not in email or len(email) > 254:
        problems.append(Problem(record, "email", "not an e-mail address"))
    if password is not None and len(password) < 10:
        problems.append(Problem(record, "password", "at least 10 characters"))
    org_id = uow.conn.execute(
        select(organisations.c.id).where(organisations.c.code == organisation)).scalar()
    if org_id is None:
        problems.append(Problem(record, "org", f"unknown organisation {organisation!r}"))
    if problems:
        raise Invalid(problems)
    email = email.strip().lower()
    if uow.conn.execute(select(users.c.id).where(users.c.email == email)).first():
        raise Conflict(f"{record} already exists")
    values = {"email": email, "name": name, "organisation_id": org_id, "role": role,
              "grants": ",".join(sorted(grants)), "active": True, "created_at": uow.now,
              "password_hash": password_hasher.hash(password) if password else None}
    new_id = uow.conn.execute(insert(users).returning(users.c.id), values).scalar_one()
    public = {k: v for k, v in values.items() if k != "password_hash"}
    audit.append(uow, actor=actor, action="users.create", table="users", record_id=new_id,
                 code=email, after=public)
    return {"id": new_id, **public, "organisation": organisation}


def list_users(uow: UnitOfWork, *, actor: Actor) -> list[dict[str, Any]]:
    """Users with their organisation code (administrators only)."""
    require(actor, "account.manage")
    query = select(users.c.id, users.c.email, users.c.name, users.c.role, users.c.grants,
                   users.c.active, organisations.c.code.label("organisation")).join(
        organisations, users.c.organisation_id == organisations.c.id).order_by(users.c.email)
    return [dict(r) for r in uow.conn.execute(query).mappings()]


def actor_of(uow: UnitOfWork, user_id: int, scopes=frozenset(SCOPES)) -> Actor:
    """The Actor a user acts as."""
    row = uow.conn.execute(
        select(users, organisations.c.kind.label("org_kind")).join(
            organisations, users.c.organisation_id == organisations.c.id
        ).where(users.c.id == user_id)).mappings().one()
    return Actor(name=row["email"], organisation_id=row["organisation_id"],
                 roles=frozenset({row["role"]}), user_id=row["id"],
                 organisation_kind=row["org_kind"],
                 grants=frozenset(g for g in row["grants"].split(",") if g),
                 scopes=frozenset(scopes))


def issue_token(
    uow: UnitOfWork, *, actor: Actor, user_id: int, kind: str = "api", name: str = "token",
    scopes: tuple[str, ...] = SCOPES, ttl: timedelta | None = None,
) -> dict[str, Any]:
    """A new bearer token (shown once; stored hashed). Sessions also get a CSRF token."""
    require(actor, "token.issue", {"user_id": user_id})
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise Invalid(Problem(f"token {name}", "scopes", f"unknown scope(s) {bad or scopes}"))
    token, csrf = f"dm_{secrets.token_urlsafe(32)}", secrets.token_urlsafe(24)
    life = ttl or TOKEN_KINDS[kind]
    values = {"user_id": user_id, "name": name, "kind": kind, "token_hash": _digest(token),
              "scopes": ",".join(scopes), "csrf_hash": _digest(csrf) if kind == "session"
              else None, "created_at": uow.now,
              "expires_at": uow.now + life if life else None}
    token_id = uow.conn.execute(insert(api_tokens).returning(api_tokens.c.id), values).scalar_one()
    if kind == "api":
        audit.append(uow, actor=actor, action="api_tokens.create", table="api_tokens",
                     record_id=token_id, code=name, after={**values, "token_hash": "…"})
    return {"id": token_id, "token": token, "csrf": csrf if kind == "session" else None,
            "expires_at": values["expires_at"], "scopes": list(scopes), "name": name}


def actor_for_token(uow: UnitOfWork, token: str, *, kind: str | None = None) -> Actor | None:
    """The actor a bearer or session token stands for, or None if unknown/expired/revoked."""
    row = uow.conn.execute(select(api_tokens).where(
        api_tokens.c.token_hash == _digest(token or ""))).mappings().first()
    if row is None or row["revoked_at"] is not None or (kind and row["kind"] != kind):
        return None
    if row["expires_at"] is not None and row["expires_at"] <= uow.now:
        return None
    return actor_of(uow, row["user_id"], scopes=frozenset(row["scopes"].split(",")))


def csrf_matches(uow: UnitOfWork, session_token: str, csrf: str) -> bool:
    """Whether ``csrf`` is the CSRF token issued with this session."""
    row = uow.conn.execute(select(api_tokens.c.csrf_hash).where(
        api_tokens.c.token_hash == _digest(session_token or ""))).first()
    return bool(row and row.csrf_hash and secrets.compare_digest(row.csrf_hash,
                                                                 _digest(csrf or "")))


def revoke_token(uow: UnitOfWork, *, actor: Actor, token_id: int | None = None,
                 token: str | None = None) -> None:
    """Revoke a token by id or by its value (one's own, or any for an administrator)."""
    where = api_tokens.c.id == token_id if token_id is not None else \
        api_tokens.c.token_hash == _digest(token or "")
    row = uow.conn.execute(select(api_tokens).where(where)).mappings().first()
    require(actor, "token.revoke", row)  # another's token is not found, like a missing one
    uow.conn.execute(update(api_tokens).where(api_tokens.c.id == row["id"]).values(
        revoked_at=uow.now))
    if row["kind"] == "api":
        audit.append(uow, actor=actor, action="api_tokens.revoke", table="api_tokens",
                     record_id=row["id"], code=row["name"])


def user_id_of(uow: UnitOfWork, email: str) -> int:
    """The id of the user with this e-mail."""
    found = uow.conn.execute(select(users.c.id).where(
        users.c.email == email.strip().lower())).scalar()
    if found is None:
        raise NotFound(f"user {email} not found")
    return found
