"""Fields that change who may see or do what: only an administrator changes them.

An organisation's ``kind`` decides authority-level reads and automatic approval, so the
authority itself may not make an organisation (or itself) an authority, nor change any
organisation's kind. Sharing agreements and grants are likewise administrators' (see
``services.access.sharing``). Every such change is a service call with its audit entry.
"""

from __future__ import annotations

from typing import Any

from demine.domain.actors import Actor
from demine.domain.errors import PermissionDenied

RIGHTS_FIELDS = {"organisations": ("kind",)}
AUTHORITY = "authority"


def check_create(actor: Actor, layer: str, values: dict[str, Any], *, record: str) -> None:
    """Only an administrator creates an organisation of the authority's kind."""
    if layer == "organisations" and not actor.is_admin and values.get("kind") == AUTHORITY:
        raise PermissionDenied(f"{record}: only an administrator registers an authority")


def check_update(actor: Actor, layer: str, old: dict[str, Any], values: dict[str, Any], *,
                 record: str) -> None:
    """Only an administrator changes a field that decides rights."""
    if actor.is_admin:
        return
    for name in RIGHTS_FIELDS.get(layer, ()):
        if name in values and values[name] != old.get(name):
            raise PermissionDenied(f"{record}: only an administrator changes {name}")


def check_delete(actor: Actor, layer: str, old: dict[str, Any], *, record: str) -> None:
    """Deleting an organisation drops its agreements and grants: administrators only."""
    if layer in RIGHTS_FIELDS and not actor.is_admin:
        raise PermissionDenied(f"{record}: only an administrator deletes it")
