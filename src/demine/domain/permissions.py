"""Who may do what: one rule per action, named from one vocabulary (``RULES``), as pure
functions of the actor and what the action is done to.

``services.access.require`` applies them: ``require()`` raises the refusal's error, ``allowed()``
answers yes or no, and an action on a stored record is first put to the visibility predicate
(``services.access.permissions.visible``), so a record the actor may not see is not found
exactly like a missing one. Who may *see* what, as SQL for lists, is that predicate's.

The vocabulary: ``account.manage``, ``token.issue``, ``token.revoke``, ``sharing.manage``,
``record.grant``, ``audit.read``, ``checks.run``, ``checks.integrity``, ``tasking.manage``,
``hazard.work_untasked``, ``record.create``, ``record.update``, ``record.delete``,
``record.review``, ``record.set_review_status``, ``record.read_pending``,
``organisation.act_for_any``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from demine.domain.actors import PERSONAL_GRANT, Actor
from demine.domain.entities import ENTITIES, FIELD, QA, RECORD, REFERENCE, layers
from demine.domain.errors import DemineError, NotFound, PermissionDenied, Unauthenticated

# What each role may write, by layer group (from the layer registry).
RECORD_LAYERS = frozenset(name for name in layers(group=RECORD) if name in ENTITIES)
REFERENCE_LAYERS = frozenset(layers(group=REFERENCE))
QA_LAYERS = frozenset(layers(group=RECORD, work=QA))
FIELD_LAYERS = frozenset(name for name in layers(group=RECORD, work=FIELD) if name in ENTITIES)
# Fields that change who may see or do what: an organisation's ``kind`` decides
# authority-level reads and automatic approval, so only an administrator sets it (the
# authority may not make an organisation, or itself, an authority).
RIGHTS_FIELDS = {"organisations": ("kind",)}
AUTHORITY = "authority"


@dataclass(frozen=True)
class Target:
    """What an action is done to: a record of ``layer`` as it is or would be after the action
    (``record``), as stored before it (``before``, for a change), named ``label`` in messages."""

    layer: str | None = None
    record: Mapping[str, Any] | None = None
    before: Mapping[str, Any] | None = None
    label: str | None = None


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused, and the error that says so (403 unless told otherwise)."""

    reason: str
    error: type[DemineError] = PermissionDenied


Rule = Callable[[Actor, Target], "Refusal | None"]


def refusal(actor: Actor, action: str, target: Target | None = None) -> Refusal | None:
    """Why ``actor`` may not do ``action`` to ``target``; None if it may."""
    try:
        rule = RULES[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r} (known: {', '.join(RULES)})") from None
    return rule(actor, target or Target())


def _administrators(reason: str) -> Rule:
    """A rule: administrators only."""
    return lambda actor, target: None if actor.is_admin else Refusal(reason)


def _signed_in(reason: str) -> Rule:
    """A rule: anyone signed in."""
    return lambda actor, target: Refusal(reason, Unauthenticated) if actor.is_anonymous \
        else None


def _national(actor: Actor) -> bool:
    """Administrators and the national authority's users (any role) act for the programme."""
    return actor.is_admin or actor.at_authority


def _audit_read(actor: Actor, target: Target) -> Refusal | None:
    if actor.is_anonymous:
        return Refusal("sign in to read the audit log", Unauthenticated)
    if _national(actor):
        return None
    return Refusal("reading the audit log needs the authority or an administrator")


def _token_issue(actor: Actor, target: Target) -> Refusal | None:
    """Tokens are issued to oneself (``target.record`` names the user: ``user_id``)."""
    if actor.is_admin or actor.user_id == (target.record or {}).get("user_id"):
        return None
    return Refusal("tokens are issued to oneself")


def _token_revoke(actor: Actor, target: Target) -> Refusal | None:
    """One's own tokens, or any for an administrator; another's is not found, like a missing
    one (``target.record`` is the token row, None when there is none)."""
    token = target.record
    if token is None or (token["user_id"] != actor.user_id and not actor.is_admin):
        return Refusal("token not found", NotFound)
    return None


def _tasking_manage(actor: Actor, target: Target) -> Refusal | None:
    if "write" not in actor.scopes:
        return Refusal("this token is read-only")
    if actor.is_admin or (actor.at_authority and actor.role == AUTHORITY):
        return None
    return Refusal("only the authority tasks organisations on hazards")


def _work_untasked(actor: Actor, target: Target) -> Refusal | None:
    """Recording work on a hazard of another organisation without being tasked on it."""
    return None if _national(actor) else Refusal("the authority tasks organisations")


def _set_review_status(actor: Actor, target: Target) -> Refusal | None:
    """Setting a record's review status (operators' writes go to review)."""
    return None if _national(actor) else Refusal("only the authority reviews submitted data")


def _read_pending(actor: Actor, target: Target) -> Refusal | None:
    """Seeing the change waiting on a record: its owner and the authority."""
    if _national(actor) or (target.record or {}).get("organisation_id") == \
            actor.organisation_id:
        return None
    return Refusal("the change waiting on a record is shown to its owner and the authority")


def _record(action: str) -> Rule:
    """The rule of a write to one record (create/update/delete/review) of ``target.layer``.

    Visibility is checked before this (a record the actor may not see is not found).
    """
    def rule(actor: Actor, target: Target) -> Refusal | None:
        reason = _record_refusal(actor, action, target.layer or "", target.record)
        if reason:
            return Refusal(reason)
        reason = None if actor.is_admin else _rights_refusal(action, target)
        return Refusal(f"{target.label}: {reason}") if reason else None
    return rule


def _record_refusal(actor: Actor, action: str, layer: str,
                    record: Mapping[str, Any] | None) -> str | None:
    """Why ``actor`` may not ``action`` the record by role, layer and owner; None if it may."""
    if "write" not in actor.scopes:
        return "this token is read-only"
    if actor.is_admin:
        return None
    role = actor.role
    if role in (None, "viewer"):
        return "viewers may not change records"
    if action == "review":
        return None if role == AUTHORITY else "only the authority reviews submitted data"
    if layer in REFERENCE_LAYERS:
        return None if role == AUTHORITY else "reference data is kept by the authority"
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


def _rights_refusal(action: str, target: Target) -> str | None:
    """Why a non-administrator may not make this write for the fields that decide rights."""
    fields = RIGHTS_FIELDS.get(target.layer or "", ())
    if action == "create" and target.layer == "organisations" and \
            (target.record or {}).get("kind") == AUTHORITY:
        return "only an administrator registers an authority"
    if action == "update" and target.before is not None:
        for name in fields:
            if (target.record or {}).get(name) != target.before.get(name):
                return f"only an administrator changes {name}"
    if action == "delete" and fields:  # its agreements and grants would go with it
        return "only an administrator deletes it"
    return None


RULES: dict[str, Rule] = {
    "account.manage": _administrators("only an administrator manages accounts"),
    "token.issue": _token_issue,
    "token.revoke": _token_revoke,
    # who sees what is decided by an administrator, audited
    "sharing.manage": _administrators("only an administrator adds sharing agreements"),
    "record.grant": _administrators("only an administrator names who may see a record"),
    "audit.read": _audit_read,
    "checks.run": _signed_in("sign in to run the data quality checks"),
    # what a partial view cannot vouch for: edit guards, the audit chain, summaries, mirrors
    "checks.integrity": _administrators("only an administrator sees the whole store"),
    "tasking.manage": _tasking_manage,
    "hazard.work_untasked": _work_untasked,
    "record.create": _record("create"),
    "record.update": _record("update"),
    "record.delete": _record("delete"),
    "record.review": _record("review"),
    "record.set_review_status": _set_review_status,
    "record.read_pending": _read_pending,
    # names the owner of what it makes and chooses codes in any organisation's space
    "organisation.act_for_any": _administrators("an administrator acts for any organisation"),
}


def initial_review_status(actor: Actor) -> str:
    """Operator data enters as submitted; the authority's own data is approved at once."""
    return "approved" if refusal(actor, "record.set_review_status") is None else "submitted"


def sees_personal_data(actor: Actor) -> bool:
    """Casualty personal fields (name, contact, exact age, address) need a grant."""
    return PERSONAL_GRANT in actor.grants
