"""The layer registry: what each kind of record is and holds, written once.

One ``Entity`` per layer says everything the rest of the code asks about it: its fields,
types, vocabularies, references and geometry (validation, parsing of imported values, API
schemas); its group and who records it (write rights); its parent and how need-to-know
reaches it (the permission predicate); whether it is versioned and reviewed; its date and
type fields (list filters); its vector tiles and OGC API collection; its code prefix. Storage
(feature and attribute tables, history mirrors), imports (dependency order), tiles, OGC API
Features, the REST routes and the predicate read it from here, so a new layer is one entry
here plus its table definition (``storage/entity_tables.py``) and that table's migration.
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
class Tiles:
    """What a layer's vector tiles carry (``/tiles/{layer}/{z}/{x}/{y}.pbf``)."""

    properties: tuple[str, ...]
    description: str
    minzoom: int = 0


@dataclass(frozen=True)
class Collection:
    """How a layer is published as an OGC API Features collection."""

    title: str
    description: str


# Groups: who keeps a layer and how the need-to-know predicate treats it.
RECORD = "record"  # operational data: owned, need-to-know columns, reviewed when versioned
REFERENCE = "reference"  # kept by the authority, seen by everyone
# How need-to-know reaches a record that belongs to a parent (``Entity.parent``).
OWN = "own"  # its own sensitivity, review status and grants
AS_PARENT = "as_parent"  # seen exactly where its parent is (no columns of its own)
PARENT_COPY = "parent_copy"  # a copy of the parent's columns, kept equal on every write
OWN_AND_PARENT = "own_and_parent"  # its own columns *and* its parent seen
# Who records a record layer besides operators: field reporters or QA inspectors.
FIELD = "field"
QA = "qa"


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
    group: str = RECORD
    work: str | None = FIELD  # record layers: FIELD or QA; None for reference data
    parent: tuple[str, str] | None = None  # (reference field, parent layer)
    seen: str = OWN
    date_field: str | None = None  # what "from"/"to" filter (REST ``date_from``, OGC datetime)
    type_field: str | None = None  # what the REST ``type`` filter matches
    tiles: Tiles | None = None
    collection: Collection | None = None
    written_through: str | None = None  # a derived layer: written by this layer's records
    referenced_by_code: bool = False  # imports may give a reference to it by its code

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

# Every layer, in dependency order within each group: a layer's references come before it
# in ``import_order`` (reference data first, then records in the order registered here).
REGISTRY: dict[str, Entity] = {}
# The layers written directly (REST, OGC API transactions, imports): all but derived ones.
ENTITIES: dict[str, Entity] = {}
_TILE_RECORD = ("organisation_id", "sensitivity", "review_status")


def _register(entity: Entity) -> Entity:
    REGISTRY[entity.name] = entity
    if entity.written_through is None:
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
        date_field="reported_on",
        type_field="hazard_type",
        tiles=Tiles(("id", "code", "name", "hazard_type", "status", "reported_on", *_TILE_RECORD),
                    "Hazardous areas: suspected (SHA) and confirmed (CHA), by status"),
        collection=Collection(
            "Hazardous areas",
            "Suspected (SHA) and confirmed (CHA) hazardous areas with their land-release "
            "ledger (baseline, cancelled, reduced, cleared, remaining m²)."),
        referenced_by_code=True,
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
        date_field="end_date",
        type_field="kind",
        tiles=Tiles(("id", "code", "kind", "status", "release_kind", *_TILE_RECORD),
                    "Land release activities: NTS, TS, clearance, BAC, EOD spot tasks, PCI"),
        collection=Collection(
            "Land release activities",
            "Non-technical and technical surveys, clearance, BAC, EOD spot tasks and "
            "post-clearance inspections, each with its worked polygon."),
        referenced_by_code=True,
    )
)

LAND_RELEASES = _register(
    Entity(
        "land_releases",
        "land release",
        "",
        (
            _ref("activity_id", "activities", required=True),
            _ref("hazard_id", "hazards", required=True),
            _code("release_kind", vocab.ReleaseKind),
            Field("released_on", "date", required=True),
            Field("area_m2", "float", minimum=0),
            *_COMMON,
        ),
        geometry=("Polygon", "MultiPolygon"),
        parent=("activity_id", "activities"),
        seen=PARENT_COPY,
        date_field="released_on",
        tiles=Tiles(("id", "release_kind", "area_m2", *_TILE_RECORD),
                    "Land released: cancelled, reduced or cleared"),
        collection=Collection(
            "Land released",
            "Polygons cancelled, reduced or cleared, booked by completed activities "
            "(read-only: written through activities)."),
        written_through="activities",
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
        date_field="found_on",
        type_field="category",
        # Up to a million finds nationally: at zoom 8 a tile of the region demo already holds
        # 49,000 points (1.4 MB), unreadable on a map and slow to make; zoom 10 holds ~250 kB.
        tiles=Tiles(("id", "code", "category", "model_code", "disposal", *_TILE_RECORD),
                    "Explosive ordnance found, by category", minzoom=10),
        collection=Collection("EO finds",
                              "Explosive ordnance items found, with their disposal."),
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
        date_field="occurred_on",
        type_field="kind",
        tiles=Tiles(("id", "code", "kind", *_TILE_RECORD),
                    "Accidents and incidents (no casualty data)"),
        collection=Collection(
            "Accidents and incidents",
            "Explosions with or without harm (casualties are not published here)."),
        referenced_by_code=True,
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
        parent=("accident_id", "accidents"),
        seen=OWN_AND_PARENT,
        type_field="outcome",
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
        date_field="held_on",
        type_field="audience",
        tiles=Tiles(("id", "code", "audience", *_TILE_RECORD),
                    "Explosive ordnance risk education sessions"),
        collection=Collection("EORE sessions", "Explosive ordnance risk education sessions."),
        referenced_by_code=True,
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
        parent=("session_id", "eore_sessions"),
        seen=AS_PARENT,
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
        work=QA,
        date_field="inspected_on",
        type_field="kind",
        referenced_by_code=True,
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
        work=QA,
        parent=("inspection_id", "qa_inspections"),
        seen=AS_PARENT,
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
        group=REFERENCE,
        work=None,
        type_field="kind",
        referenced_by_code=True,
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
        group=REFERENCE,
        work=None,
        tiles=Tiles(("id", "code", "name", "level"), "Administrative areas"),
        collection=Collection("Administrative areas",
                              "The gazetteer's areas, admin0 to admin3."),
        referenced_by_code=True,
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
        group=REFERENCE,
        work=None,
        tiles=Tiles(("id", "code", "name", "kind"), "Places"),
        collection=Collection("Places",
                              "Settlements and other named places of the gazetteer."),
        referenced_by_code=True,
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
        group=REFERENCE,
        work=None,
        tiles=Tiles(("id", "code", "kind"), "Roads, rivers and front lines"),
        collection=Collection("Terrain lines", "Roads, rivers and front lines."),
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
        group=REFERENCE,
        work=None,
        type_field="method",
        referenced_by_code=True,
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
        group=REFERENCE,
        work=None,
        referenced_by_code=True,
    )
)


def layers(*, group: str | None = None, work: str | None = None,
           seen: str | None = None) -> tuple[str, ...]:
    """The registered layers (in registration order) of a group, kind of work or visibility."""
    return tuple(name for name, e in REGISTRY.items()
                 if (group is None or e.group == group) and (work is None or e.work == work)
                 and (seen is None or e.seen == seen))


def import_order() -> tuple[str, ...]:
    """Every layer with the layers it references first: reference data, then records."""
    return (*layers(group=REFERENCE), *layers(group=RECORD))


def storage_geometry(e: Entity) -> str | None:
    """The one geometry type a layer's table stores (GeoPackage naming): polygons are kept as
    multipolygons; None for attribute tables."""
    return e.geometry[-1].upper() if e.geometry else None


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
