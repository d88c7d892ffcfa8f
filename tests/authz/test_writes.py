"""Write paths by role, organisation and cell: create, update, review, delete (each case
checked against the oracle before and after, on a copy of the demo store per role)."""

from __future__ import annotations

import pytest

from .checking import Report, check_personal, leaks
from .oracle import Oracle, Rec
from .rules import (
    FULL,
    ON_HAZARD,
    POSTGIS_WRITE_SAMPLE,
    RECORD_LAYERS,
    ROLES,
    UPDATE_PROPS,
    layers_with,
)
from .stores import Env, create_body

# --- Writes: create, update, review, delete -----------------------------------------------

@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("layer", layers_with("create"))
def test_create(writable, layer, role):
    """POST: allowed by role and organisation (own / another); nothing stored when refused."""
    env, report = writable(role), Report()
    _sampled(env, layer)
    oracle = env.oracle
    user = oracle.users.get(role)
    home = user.org if user else min(oracle.orgs)
    other = next(o for o in sorted(oracle.orgs) if o != home)
    for org in (home, other):
        oracle.reload(layer)
        body, valid = create_body(env, role, layer, org)
        allowed = oracle.may_write(role, "create", layer, owner=org)
        if layer == "organisations" and body and body.get("kind") == "authority":
            allowed = allowed and role == "admin"  # who is an authority: the admin's call
        if body is None or (allowed and not valid):
            continue  # nothing of that organisation this role could name
        report.cases += 1
        before = set(oracle.records[layer])
        response = env.client.post(f"/api/v1/{layer}", json=body, headers=env.auth(role))
        oracle.reload(layer)
        expected = {401} if role == "anonymous" else {201} if allowed else \
            {403} if valid else {403, 422}
        if allowed and layer in ON_HAZARD and not oracle.works_on(
                role, body.get("hazard_id"), org):
            expected = {422}  # another's hazard this organisation is not tasked on
        code, where = response.status_code, f"POST /api/v1/{layer} ({oracle.orgs[org][0]})"
        if code not in expected:
            report.add(f"{where} as {role}: {code}, expected {sorted(expected)}: "
                       f"{response.text[:160]}")
        if code != 201 and set(oracle.records[layer]) != before:
            report.add(f"{where} as {role}: refused ({code}) but stored")
        if code == 201 and layer in RECORD_LAYERS:
            status = response.json()["review_status"]
            if status != oracle.enters_as(role):
                report.add(f"{where} as {role}: entered as {status}")
    report.check()


def _etag(env: Env, role: str, rec: Rec) -> str:
    """The ETag ``role`` read (``*``, any version, where ``role`` cannot read the record)."""
    if role == "anonymous" or not env.oracle.sees(role, rec):
        return "*"
    return env.client.get(rec.url, headers=env.auth(role)).headers.get("etag", '"none"')


def _write(env: Env, role: str, action: str, rec: Rec):
    headers = env.auth(role, **{"If-Match": _etag(env, role, rec)})
    if action == "update":
        body = {"review_status": "approved"} if "review_status" in UPDATE_PROPS[rec.layer] else {}
        return env.client.patch(rec.url, json=body, headers=headers)
    if action == "review":
        return env.client.post(f"{rec.url}/review", json={"decision": "approve"}, headers=headers)
    return env.client.delete(rec.url, headers=headers)


def _expected_write(oracle: Oracle, role: str, action: str, rec: Rec) -> set[int]:
    if role == "anonymous":
        return {401}
    if not oracle.sees(role, rec):
        return {404}
    if not oracle.may_write(role, action, rec.layer, rec):
        return {403}
    if action == "update":
        # A write re-checks every reference as the writer sees it: one it cannot see is
        # unknown (422, naming only the id), like one that does not exist.
        return {200} if not oracle.hidden_refs(role, rec) else {422}
    if action == "review":
        return {200} if rec.status == "submitted" else {409}
    if waits(oracle, role, rec):
        return {202}  # an operator's deletion of approved data waits for the authority
    return {204, 409}  # 409: still referenced by other records


def waits(oracle: Oracle, role: str, rec: Rec) -> bool:
    """Whether a change by ``role`` to ``rec`` is a proposal (approved data stays official)."""
    return rec.layer in RECORD_LAYERS and rec.status == "approved" and \
        oracle.enters_as(role) == "submitted"


def _sampled(env: Env, layer: str) -> None:
    if env.store.backend == "postgis" and layer not in POSTGIS_WRITE_SAMPLE and not FULL:
        pytest.skip("PostGIS writes run on a sample of layers (DEMINE_AUTHZ_FULL=1: all)")


def _run_writes(env: Env, role: str, action: str, layer: str, targets: list[Rec]) -> Report:
    _sampled(env, layer)
    report, oracle = Report(), env.oracle
    for target in targets:
        rec = oracle.refresh(layer, target.id)
        if rec is None:
            continue  # removed by an earlier case of this role
        report.cases += 1
        expected = _expected_write(oracle, role, action, rec)
        response = _write(env, role, action, rec)
        after = oracle.refresh(layer, rec.id)
        code, where = response.status_code, f"{action} {rec.url} ({rec.code}) as {role}"
        if code not in expected:
            report.add(f"{where}: {code}, expected {sorted(expected)}: {response.text[:160]}")
        if code >= 400 and after != rec:
            report.add(f"{where}: refused ({code}) but the record changed")
        if code == 404 and leaks(response, rec):
            report.add(f"{where}: 404 body names the record")
        if code == 422 and any(leaks(response, r) for r in oracle.hidden_refs(role, rec)):
            report.add(f"{where}: 422 body names a record the caller cannot see")
        if code == 409 and action == "delete" and "referenced" not in response.text:
            report.add(f"{where}: 409 that is not about references: {response.text[:160]}")
        if code == 200 and action == "update" and layer in RECORD_LAYERS:
            if waits(oracle, role, rec):  # asking only for approval is no change at all
                if after != rec or "pending_change" in response.json():
                    report.add(f"{where}: an edit of approved data did not wait")
            elif after.status != oracle.enters_as(role):
                report.add(f"{where}: asked for approval, got {after.status}")
            check_personal(report, oracle, role, after, response.json(), where)
        if code == 204 and after is not None:
            report.add(f"{where}: 204 but the record is still there")
        if code == 202 and after != rec:
            report.add(f"{where}: a deletion waiting for the authority changed the record")
    return report


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("layer", layers_with("update"))
def test_update(demo, writable, layer, role):
    """PATCH with a valid If-Match: by role and organisation; 404 for what one cannot see."""
    _run_writes(writable(role), role, "update", layer, demo.oracle.targets(role, layer)).check()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("layer", layers_with("review"))
def test_review(demo, writable, layer, role):
    """POST review: the authority (and admins) decide on submitted records only."""
    _run_writes(writable(role), role, "review", layer, demo.oracle.targets(role, layer)).check()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("layer", layers_with("delete"))
def test_delete(demo, writable, layer, role):
    """DELETE with a valid If-Match: by role and organisation; 404 for what one cannot see."""
    _run_writes(writable(role), role, "delete", layer, demo.oracle.targets(role, layer)).check()
