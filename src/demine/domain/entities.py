"""What each kind of record holds: fields, types, vocabularies, references, geometry.

One description per entity drives validation (services), parsing of imported values
(formats), and later the API schemas, so a rule is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from demine.domain import vocab


@dataclass(frozen=True)
class Field:
    """One attribute of a record."""

    name: str
    kind: str  # text | int | float | date | bool | code | codes | ref
    required: bool = False
    vocabulary: type[StrEnum] | None = None
    ref: str | None = None  # entity referenced, for kind "ref"; imports may give its code
    minimum: float | None = None
    maximum: float | None = None
    sensitive: bool = False
    # A date records what happened, so it may not lie ahead, unless (field, value) holds.
    ahead_when: tuple[str, str] | None = None


@dataclass(frozen=True)
class Entity:
    """A kind of record and the layer that holds it."""

    name: str
    label: str
    code_prefix: str
    fields: tuple[Field, ...]
    geometry: tuple[str, ...] = ()
    geometry_required: bool = True
    versioned: bool = True
    located: bool = True  # checked against the gazetteer's extent
    ledger: bool = False
    defaults: dict = field(default_factory=dict)

    def field(self, name: str) -> Field | None:
        """The field called ``name``."""
        return next((f for f in self.fields if f.name == name), None)

    @property
    def ref_fields(self) -> tuple[Field, ...]:
        """Fields that reference another record."""
        return tuple(f for f in self.fields if f.kind == "ref")


def _code(name, vocabulary, required=True) -> Field:
    return Field(name, "code", required, vocabulary)


def _codes(name, vocabulary) -> Field:
    return Field(name, "codes", False, vocabulary)


def _ref(name, entity, required=False) -> Field:
    return Field(name, "ref", required, ref=entity)


_PLANNED = ("status", vocab.ActivityStatus.PLANNED.value)  # planned work is dated ahead

_COMMON = (
    _ref("organisation_id", "organisations", required=True),
    _code("sensitivity", vocab.Sensitivity, required=False),
    _code("review_status", vocab.ReviewStatus, required=False),
)

ENTITIES: dict[str, Entity] = {}


def _register(entity: Entity) -> Entity:
    ENTITIES[entity.name] = entity
    return entity


HAZARDS = _register(
    Entity(
        "hazards",
        "hazard",
        "HZ",
        (
            Field("name", "text"),
            _code("hazard_type", vocab.HazardType),
            _code("status", vocab.HazardStatus, required=False),
            _ref("admin_area_id", "admin_areas"),
            Field("evidence_direct", "text"),
            Field("evidence_indirect", "text"),
            _codes("evidence_categories", vocab.EvidenceCategory),
            _codes("contamination", vocab.EOCategory),
            _codes("blockages", vocab.Blockage),
            Field("reported_on", "date", required=True),
            Field("closed_on", "date"),
            Field("closure_reason", "text"),
            *_COMMON,
        ),
        geometry=("Polygon", "MultiPolygon"),
        ledger=True,
    )
)

ACTIVITIES = _register(
    Entity(
        "activities",
        "activity",
        "AC",
        (
            _ref("hazard_id", "hazards", required=True),
            _code("kind", vocab.ActivityKind),
            _code("status", vocab.ActivityStatus, required=False),
            _ref("team_id", "teams"),
            _code("method", vocab.TeamMethod, required=False),
            Field("start_date", "date", ahead_when=_PLANNED),
            Field("end_date", "date", ahead_when=_PLANNED),
            Field("depth_cm", "int", minimum=0, maximum=1000),
            *_COMMON,
        ),
        geometry=("Polygon", "MultiPolygon"),
    )
)

EO_FINDS = _register(
    Entity(
        "eo_finds",
        "EO find",
        "EO",
        (
            _ref("activity_id", "activities"),
            _ref("hazard_id", "hazards"),
            _code("category", vocab.EOCategory),
            _ref("model_code", "eo_models"),
            Field("quantity", "int", minimum=1, maximum=100_000),
            Field("depth_cm", "int", minimum=0, maximum=1000),
            _code("fuze_state", vocab.FuzeState, required=False),
            _code("disposal", vocab.Disposal, required=False),
            Field("found_on", "date", required=True),
            *_COMMON,
        ),
        geometry=("Point",),
    )
)

ACCIDENTS = _register(
    Entity(
        "accidents",
        "accident",
        "ACC",
        (
            _code("kind", vocab.AccidentKind),
            Field("occurred_on", "date", required=True),
            _ref("hazard_id", "hazards"),
            _ref("activity_id", "activities"),
            _ref("admin_area_id", "admin_areas"),
            _code("eo_category", vocab.EOCategory, required=False),
            _ref("model_code", "eo_models"),
            Field("description", "text"),
            *_COMMON,
        ),
        geometry=("Point",),
    )
)

CASUALTIES = _register(
    Entity(
        "casualties",
        "casualty",
        "CAS",
        (
            _ref("accident_id", "accidents", required=True),
            _code("outcome", vocab.CasualtyOutcome),
            _code("sex", vocab.Sex, required=False),
            _code("age_band", vocab.AgeBand, required=False),
            _code("role", vocab.CasualtyRole),
            Field("activity_at_time", "text"),
            Field("full_name", "text", sensitive=True),
            Field("contact", "text", sensitive=True),
            Field("exact_age", "int", minimum=0, maximum=120, sensitive=True),
            Field("address", "text", sensitive=True),
            *_COMMON,
        ),
    )
)

EORE_SESSIONS = _register(
    Entity(
        "eore_sessions",
        "EORE session",
        "RE",
        (
            Field("held_on", "date", required=True),
            _ref("admin_area_id", "admin_areas"),
            _code("audience", vocab.EoreAudience),
            Field("beneficiaries", "int", minimum=0, maximum=1_000_000),
            *_COMMON,
        ),
        geometry=("Point",),
    )
)

QA_INSPECTIONS = _register(
    Entity(
        "qa_inspections",
        "QA inspection",
        "QA",
        (
            _ref("activity_id", "activities", required=True),
            _code("kind", vocab.InspectionKind),
            Field("inspected_on", "date", required=True),
            _code("result", vocab.InspectionResult),
            Field("area_sampled_m2", "float", minimum=0),
            Field("notes", "text"),
            *_COMMON,
        ),
    )
)

ORGANISATIONS = _register(
    Entity(
        "organisations",
        "organisation",
        "ORG",
        (
            Field("name", "text", required=True),
            _code("kind", vocab.OrganisationKind),
            Field("country", "text"),
        ),
        versioned=False,
    )
)

ADMIN_AREAS = _register(
    Entity(
        "admin_areas",
        "admin area",
        "ADM",
        (
            Field("name", "text", required=True),
            Field("level", "int", required=True, minimum=0, maximum=3),
            _ref("parent_id", "admin_areas"),
        ),
        geometry=("Polygon", "MultiPolygon"),
        versioned=False,
        located=False,
    )
)

PLACES = _register(
    Entity(
        "places",
        "place",
        "PL",
        (
            Field("name", "text", required=True),
            Field("kind", "text", required=True),
            Field("population", "int", minimum=0),
            _ref("admin_area_id", "admin_areas"),
        ),
        geometry=("Point",),
        versioned=False,
    )
)

TERRAIN_LINES = _register(
    Entity(
        "terrain_lines",
        "terrain line",
        "TL",
        (Field("name", "text"), Field("kind", "text", required=True)),
        geometry=("LineString",),
        versioned=False,
    )
)

TEAMS = _register(
    Entity(
        "teams",
        "team",
        "TM",
        (
            Field("name", "text", required=True),
            _ref("organisation_id", "organisations", required=True),
            _code("method", vocab.TeamMethod),
            Field("size", "int", minimum=1, maximum=500),
            _ref("base_place_id", "places"),
        ),
        versioned=False,
    )
)

EO_MODELS = _register(
    Entity(
        "eo_models",
        "EO model",
        "EOM",
        (
            _code("category", vocab.EOCategory),
            Field("origin", "text"),
            Field("description", "text"),
        ),
        versioned=False,
    )
)

EORE_BENEFICIARIES = _register(
    Entity(
        "eore_beneficiaries",
        "EORE beneficiary count",
        "REB",
        (
            _ref("session_id", "eore_sessions", required=True),
            _code("sex", vocab.Sex),
            _code("age_band", vocab.AgeBand),
            Field("disability", "bool", required=True),
            Field("count", "int", required=True, minimum=0, maximum=1_000_000),
        ),
        versioned=False,
    )
)

NON_CONFORMITIES = _register(
    Entity(
        "non_conformities",
        "non-conformity",
        "NC",
        (
            _ref("inspection_id", "qa_inspections", required=True),
            Field("category", "text", required=True),
            _code("severity", vocab.Severity),
            Field("description", "text"),
            Field("corrective_action", "text"),
            Field("closed_on", "date"),
        ),
        versioned=False,
    )
)

# Reference tables: referenced by code on import ("organisation": "NMAA").
REFERENCE_CODE_COLUMN = {
    "organisations": "code",
    "admin_areas": "code",
    "teams": "code",
    "hazards": "code",
    "activities": "code",
    "accidents": "code",
    "eo_models": "code",
    "places": "code",
    "eore_sessions": "code",
    "qa_inspections": "code",
}


def label(ent: Entity, raw: Mapping[str, Any], fallback: str = "new") -> str:
    """How problems name a record: "hazard HZ-000012" or "hazard (new)"."""
    code = raw.get("code") or raw.get("id")
    return f"{ent.label} {code}" if code else f"{ent.label} ({fallback})"


def entity(name: str) -> Entity:
    """The entity called ``name`` (a layer name such as "hazards")."""
    try:
        return ENTITIES[name]
    except KeyError:
        known = ", ".join(ENTITIES)
        raise KeyError(f"unknown layer {name!r} (known: {known})") from None
