"""Code-list values as people read them: each vocabulary value's label, marked for
translation. Record data stays as entered; only coded values (statuses, types, kinds) are
shown by their label, in the page's language (a value without a label shows as stored).

The labels of the map legend's categories (``formats.styles``) are reused, so that the map,
the lists and the exported GeoPackage's ``layer_styles`` speak alike.
"""

from __future__ import annotations

from enum import StrEnum

from demine.domain import vocab
from demine.domain.entities import REGISTRY
from demine.formats.styles import STYLES
from demine.web.ui.i18n import N_, gettext


def _styled(layer: str) -> dict[str, str]:
    return {c.value: c.label for c in STYLES[layer].categories}


LABELS: dict[type[StrEnum], dict[str, str]] = {
    vocab.HazardType: {k: v for k, v in _styled("hazards").items() if k != "closed"},
    vocab.ActivityKind: _styled("activities"),
    vocab.ReleaseKind: _styled("land_releases"),
    vocab.EOCategory: _styled("eo_finds"),
    vocab.AccidentKind: _styled("accidents"),
    vocab.HazardStatus: {"open": N_("Open"), "worked_on": N_("Being worked on"),
                         "closed": N_("Closed")},
    vocab.ActivityStatus: {"planned": N_("Planned"), "ongoing": N_("Ongoing"),
                           "completed": N_("Completed"), "suspended": N_("Suspended")},
    vocab.ReviewStatus: {"submitted": N_("Submitted"), "approved": N_("Approved"),
                         "rejected": N_("Rejected")},
    vocab.Sensitivity: {"public": N_("Public"), "shared": N_("Shared"),
                        "restricted": N_("Restricted"), "confidential": N_("Confidential")},
    vocab.CasualtyOutcome: {"killed": N_("Killed"), "injured": N_("Injured")},
    vocab.InspectionResult: {"pass": N_("Pass"), "conditional": N_("Conditional pass"),
                             "fail": N_("Fail")},
}
# Columns that every record carries, beside the layer's own fields.
COMMON = {"review_status": vocab.ReviewStatus, "sensitivity": vocab.Sensitivity}


def vocabulary(layer: str, name: str) -> type[StrEnum] | None:
    """The vocabulary of field ``name`` of ``layer`` (None: not coded)."""
    if name in COMMON:
        return COMMON[name]
    entry = REGISTRY.get(layer)
    for field in entry.fields if entry else ():
        if field.name == name:
            return field.vocabulary
    return None


def options(layer: str, name: str) -> list[tuple[str, str]]:
    """(value, label in the current language) of every value field ``name`` may take."""
    coded = vocabulary(layer, name)
    return [(v.value, coded_label(layer, name, v.value)) for v in coded] if coded else []


def coded_label(layer: str, name: str, value: object) -> object:
    """``value`` of field ``name`` as people read it (as stored when it has no label)."""
    coded = vocabulary(layer, name)
    label = LABELS.get(coded, {}).get(value) if coded and isinstance(value, str) else None
    return gettext(label) if label else value
