"""Which layer has which write rules: the one registry of hooks, filled here and nowhere else.

A layer not named here has no rules of its own (the do-nothing ``Hooks``).
"""

from __future__ import annotations

from demine.services.records.activities import ActivityHooks
from demine.services.records.finds import FindHooks
from demine.services.records.hazards import HazardHooks
from demine.services.records.hooks import Hooks

HOOKS: dict[str, Hooks] = {
    "hazards": HazardHooks(),
    "activities": ActivityHooks(),
    "eo_finds": FindHooks(),
}

_NONE = Hooks()


def hooks_for(layer: str) -> Hooks:
    """The rules of one layer (the default does nothing)."""
    return HOOKS.get(layer, _NONE)
