"""Stores for the matrix: the session's demo per backend (tests/conftest.py), copies of it,
``Env`` (an app, the sign-ins and an oracle on one store), and filling the matrix so that every
cell exists."""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from conftest import StoreTemplate, clone_database, copy_gpkg
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from demine.domain.actors import Actor
from demine.services.access.sharing import grant_record
from demine.settings import Settings, sqlite_url
from demine.storage.database import Database
from demine.web.app import create_app

from .oracle import Oracle, Rec
from .rules import (
    CHILD_LAYERS,
    CREATE_PROPS,
    DEMO_DOMAIN,
    RECORD_LAYERS,
    REFS,
    ROLES,
    SENSITIVITIES,
    STATUSES,
)

PG_URL = os.environ.get("DEMINE_TEST_DATABASE_URL")


# --- Stores: the demo per backend and copies of it ----------------------------------------

def _pg_admin():
    url = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT"), url


class Store:
    """A store on one backend that can be copied (engines on it are released first)."""

    def __init__(self, backend: str, url: str, tmp: Path):
        self.backend, self.url, self.tmp = backend, url, tmp
        self.engines: list = []
        self.copies: list[str] = []

    @classmethod
    def create(cls, template: StoreTemplate, tmp: Path) -> Store:
        """A copy of the session's demo template (tests/conftest.py)."""
        if template.backend == "gpkg":
            path = tmp / "demo.gpkg"
            copy_gpkg(template.source, path)
            return cls("gpkg", sqlite_url(path), tmp)
        admin, url = _pg_admin()
        name = f"authz_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            clone_database(conn, template.source, name)
        admin.dispose()
        store = cls("postgis", url.set(database=name).render_as_string(False), tmp)
        store.copies.append(name)
        return store

    def copy(self) -> str:
        """The URL of a fresh copy of this store as it is now."""
        for engine in self.engines:
            engine.dispose()
        if self.backend == "gpkg":
            path = self.tmp / f"copy-{uuid.uuid4().hex[:8]}.gpkg"
            source, target = sqlite3.connect(make_url(self.url).database), sqlite3.connect(path)
            with target:
                source.backup(target)
            source.close()
            target.close()
            return sqlite_url(path)
        admin, url = _pg_admin()
        name = f"authz_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            clone_database(conn, make_url(self.url).database, name)
        admin.dispose()
        self.copies.append(name)
        return url.set(database=name).render_as_string(False)

    def drop(self) -> None:
        """Remove this store and the copies made of it."""
        for engine in self.engines:
            engine.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.backend == "postgis":
            admin, _ = _pg_admin()
            with admin.connect() as conn:
                for name in reversed(self.copies):
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@dataclass
class Env:
    """An app on one store, the sign-ins, and the oracle over the same store."""

    store: Store
    url: str
    client: TestClient
    tokens: dict[str, dict[str, str]]
    oracle: Oracle

    def auth(self, role: str, **extra: str) -> dict[str, str]:
        """Request headers acting as ``role``."""
        return {**self.tokens.get(role, {}), **extra}

    def close(self) -> None:
        """Release engines."""
        self.client.__exit__(None, None, None)
        self.oracle.close()
        self.client.app.state.database.dispose()


def make_env(store: Store, url: str, tokens: dict) -> Env:
    app = create_app(Settings(database_url=url))
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()  # one event loop for all requests (much faster than one per request)
    oracle = Oracle(url)
    store.engines += [app.state.database.engine, oracle.engine]
    return Env(store, url, client, tokens, oracle)


def sign_in(client: TestClient) -> dict[str, dict[str, str]]:
    tokens = {}
    for role in ROLES[1:]:
        response = client.post("/api/v1/auth/token", json={
            "email": f"{role}@{DEMO_DOMAIN}", "password": f"demine-demo-{role}"})
        assert response.status_code == 200, response.text
        tokens[role] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return tokens


def scratch_dir(tmp_path_factory) -> Path:
    """Where GeoPackage copies go: memory-backed when the machine has it (no fsync cost)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="demine-authz-", dir=shm))
    return tmp_path_factory.mktemp("authz")


# --- Filling the matrix -------------------------------------------------------------------

def _body(env: Env, rec: Rec, props: frozenset[str], parent: int | None = None) -> dict:
    """A create body copied from ``rec`` (read as the admin, so nothing is redacted)."""
    item = env.client.get(rec.url, headers=env.auth("admin")).json()
    body = {k: v for k, v in item.items() if k in props and v is not None and k != "code"}
    if rec.layer == "activities":
        body.pop("team_id", None)  # a team belongs to its organisation
    if parent is not None:
        body[CHILD_LAYERS[rec.layer][0]] = parent
    if rec.layer == "eore_beneficiaries":
        body.update(free_combination(env.oracle, body["session_id"]))
    return body


def free_combination(oracle: Oracle, session_id: int) -> dict:
    taken = {(r.sex, r.age_band, bool(r.disability))
             for r in oracle.records["eore_beneficiaries"].values()
             if r.row["session_id"] == session_id}
    for sex, band, disability in itertools.product(
            ("unknown", "female", "male"), ("unknown", "0-17", "18-59", "60+"), (True, False)):
        if (sex, band, disability) not in taken:
            return {"sex": sex, "age_band": band, "disability": disability}
    raise AssertionError(f"no free beneficiary combination left in session {session_id}")


def _grant(url: str, layer: str, record_id: int, **grantee: str) -> None:
    database = Database(Settings(database_url=url))
    with database.transaction() as uow:
        grant_record(uow, actor=Actor.system("test"), layer=layer, record_id=record_id,
                     **grantee)
    database.dispose()


def _clone(env: Env, layer: str, org: int, sensitivity: str, status: str) -> None:
    """Add one record of ``layer`` with this owner, sensitivity and status (and its grants)."""
    oracle = env.oracle
    for rid in sorted(oracle.records[layer]):
        body = _body(env, oracle.records[layer][rid], CREATE_PROPS[layer])
        body.update(organisation_id=oracle.orgs[org][0], sensitivity=sensitivity,
                    review_status=status)
        if layer == "casualties":  # personal data to redact (or not) in every cell
            body.update(full_name=f"Person {org}-{sensitivity}-{status}", exact_age=37,
                        contact="+000 555 0199", address="1 Fictional Road")
        response = env.client.post(f"/api/v1/{layer}", json=body, headers=env.auth("admin"))
        if response.status_code == 201:
            break
    else:
        raise AssertionError(f"could not add a {layer} record: {response.text}")
    new_id = response.json()["id"]
    ring = sorted(oracle.orgs)
    if sensitivity == "restricted":
        named = ring[(ring.index(org) + 1) % len(ring)]
        _grant(env.url, layer, new_id, organisation=oracle.orgs[named][0])
    elif sensitivity == "confidential" and org in oracle.staff:
        _grant(env.url, layer, new_id, user_email=oracle.staff[org])


def fill_matrix(env: Env) -> None:
    """Make every sensitivity × status exist for each organisation a demo user belongs to."""
    oracle = env.oracle
    orgs = sorted({u.org for u in oracle.users.values()})
    for layer in RECORD_LAYERS:
        have = {(r.org, r.sensitivity, r.status) for r in oracle.records[layer].values()}
        statuses = STATUSES if layer == "hazards" else STATUSES[:2]  # rejected: hazards only
        for org, sensitivity, status in itertools.product(orgs, SENSITIVITIES, statuses):
            if (org, sensitivity, status) not in have:
                _clone(env, layer, org, sensitivity, status)
    reporter = oracle.users["reporter"]
    for layer in ("hazards", "casualties", "eo_finds"):  # drafts recorded by the reporter
        body, valid = create_body(env, "reporter", layer, reporter.org)
        assert valid, layer
        response = env.client.post(f"/api/v1/{layer}", json=body, headers=env.auth("reporter"))
        assert response.status_code == 201, response.text


def create_body(env: Env, role: str, layer: str, org: int) -> tuple[dict | None, bool]:
    """A create body owned by ``org``, and whether every record it names is visible to
    ``role`` (otherwise the body is still sent: a 422 for the unknown reference is fine)."""
    oracle = env.oracle
    sees = (lambda r: True) if role == "anonymous" else (lambda r: oracle.sees(role, r))
    candidates = [oracle.records[layer][rid] for rid in sorted(oracle.records[layer])]
    if layer in CHILD_LAYERS:
        parents = [p for p in oracle.records[CHILD_LAYERS[layer][1]].values()
                   if p.org == org and sees(p)]
        if not parents or not candidates:
            return None, False
        parent = min(parents, key=lambda p: p.id)
        return _body(env, candidates[0], CREATE_PROPS[layer], parent=parent.id), True

    def named_visible(rec: Rec) -> bool:
        return all((ref := oracle.records[t].get(rec.row[c])) is not None and sees(ref)
                   for c, t in REFS.items() if rec.row.get(c) is not None)

    source = next((r for r in candidates if sees(r) and named_visible(r)), None)
    body = _body(env, source or candidates[0], CREATE_PROPS[layer])
    if "organisation_id" in CREATE_PROPS[layer]:
        body["organisation_id"] = oracle.orgs[org][0]
    if "sensitivity" in CREATE_PROPS[layer]:
        body["sensitivity"] = "shared"
    if "review_status" in CREATE_PROPS[layer]:
        body["review_status"] = "approved"  # operators may not approve their own data
    return body, source is not None
