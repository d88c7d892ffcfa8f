"""Who may see what, as SQL: the one predicate every list, count, export and statistic uses.

The rules (need-to-know by sensitivity) live in demine.domain.permissions; this module only
turns them into a WHERE clause so lists are never filtered in Python after the fact.
"""

from __future__ import annotations

from sqlalchemy import Table, false, or_, true

from demine.domain.actors import Actor
from demine.domain.vocab import Sensitivity


def visible(actor: Actor, t: Table):
    """A WHERE clause keeping the rows of ``t`` that ``actor`` may see."""
    if actor.is_admin:
        return true()
    if "sensitivity" not in t.c:
        return true() if actor.organisation_id is not None else false()
    public = t.c.sensitivity == Sensitivity.PUBLIC.value
    if actor.organisation_id is None:
        return public
    return or_(public, t.c.organisation_id == actor.organisation_id)
