"""Atomic import: every record of a file is validated and written, or nothing is.

Records are matched by code, so re-sending a file never duplicates: an identical record is
left alone, a changed one gets a new version. Problems of all records are reported together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from demine.domain.actors import Actor
from demine.domain.entities import entity, import_order
from demine.domain.errors import Conflict, Invalid, Problem
from demine.domain.geometry_rules import as_multipolygon, same_geometry
from demine.formats.base import Feature
from demine.formats.mapping import FieldMapping
from demine.services import audit
from demine.services.loading.import_repeats import repeated_keys
from demine.services.records.activities import RELEASED
from demine.services.records.crud import create_record, update_record
from demine.services.records.resolver import Resolver
from demine.storage.database import UnitOfWork
from demine.storage.tables import activities, land_releases, table

# Dependency order: a record's references are imported before it.
ORDER = import_order()


@dataclass
class ImportReport:
    """What an import did (or, dry, would do) per layer."""

    layers: dict[str, dict[str, int]] = field(default_factory=dict)
    dry_run: bool = False

    def count(self, layer: str, outcome: str) -> None:
        """Count one record's outcome: created, updated or unchanged."""
        counts = self.layers.setdefault(layer, {"created": 0, "updated": 0, "unchanged": 0})
        counts[outcome] += 1


def import_features(
    uow: UnitOfWork, *, actor: Actor, layers: dict[str, list[Feature]], source: str,
    target: str | None = None, organisation: str | None = None, dry_run: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
    mapping: FieldMapping | None = None,
) -> ImportReport:
    """Import the features of each layer into the layer of the same name (or ``target``),
    translated first by ``mapping`` (another system's field names and codes) when given."""
    if mapping is not None:
        layers, target = mapping.apply(layers, target), mapping.layer
    plan = _plan(layers, target)
    problems, repeats = repeated_keys(plan)
    report = ImportReport(dry_run=dry_run)
    resolver = Resolver(uow, actor)
    total, done = sum(len(f) for f in plan.values()), 0
    with uow.savepoint() as whole:
        for name, features in plan.items():
            for feature in features:
                if id(feature) not in repeats:  # a later copy would silently win
                    problems += _import_one(uow, actor, resolver, name, feature, organisation,
                                            report)
                done += 1
                progress(done, total)
        if problems:
            raise Invalid(problems)
        if dry_run:
            uow.rollback(whole)
            return report
        audit.append(uow, actor=actor, action="import", detail=audit.canonical(
            {"source": source, "layers": report.layers}))
    return report


def _plan(layers: dict[str, list[Feature]], target: str | None) -> dict[str, list[Feature]]:
    if target is not None:
        if target not in ORDER:
            raise Invalid(Problem("file", "layer", f"unknown layer {target!r} "
                                  f"(known: {', '.join(ORDER)})"))
        if len(layers) != 1:
            raise Invalid(Problem("file", "layer", "--layer needs a file with one layer"))
        return {target: next(iter(layers.values()))}
    unknown = [name for name in layers if name not in ORDER]
    if unknown:
        raise Invalid([Problem("file", "layer", f"unknown layer {name!r} (known: "
                               f"{', '.join(ORDER)}; use --layer to name the target)")
                       for name in unknown])
    return {name: layers[name] for name in ORDER if name in layers}


def _import_one(uow, actor, resolver, layer, feature: Feature, organisation, report) -> list:
    if feature.geometry_error:
        return [Problem(feature.ref, "geometry", feature.geometry_error)]
    data = _data_of(feature, organisation)
    try:
        with uow.savepoint():
            if layer == "land_releases":
                outcome = _import_release(uow, actor, resolver, feature, data)
            else:
                outcome = _upsert(uow, actor, resolver, layer, data)
    except Invalid as exc:
        return [Problem(feature.ref, p.field, p.reason) for p in exc.problems]
    except Conflict as exc:
        return [Problem(feature.ref, "code", str(exc))]
    report.count(layer, outcome)
    return []


def _data_of(feature: Feature, organisation: str | None) -> dict[str, Any]:
    data = dict(feature.properties)
    for key in list(data):  # a code ("organisation": "NMAA") wins over a local id
        if key.endswith("_id") and data.get(key.removesuffix("_id")) not in (None, ""):
            data.pop(key)
    if organisation and data.get("organisation") in (None, "") and \
            data.get("organisation_id") in (None, ""):
        data["organisation"] = organisation
    data["geometry"] = feature.geometry
    return data


def _upsert(uow, actor, resolver, layer: str, data: dict[str, Any]) -> str:
    t = table(layer)
    code = data.get("code")
    existing = None
    if code not in (None, ""):
        existing = uow.conn.execute(select(t).where(t.c.code == str(code))).mappings().first()
    if existing is None:
        create_record(uow, actor=actor, layer=layer, data=data, resolver=resolver)
        return "created"
    changes = {k: v for k, v in data.items() if k not in ("id", "code")}
    if _same(layer, dict(existing), changes, resolver):
        return "unchanged"
    update_record(uow, actor=actor, layer=layer, record_id=existing["id"], changes=changes)
    return "updated"


def _same(layer: str, row: dict[str, Any], changes: dict[str, Any], resolver) -> bool:
    from demine.domain.validation import coerce_record

    ent = entity(layer)
    values, problems = coerce_record(ent, changes, record="-", partial=True)
    if problems or resolver.resolve(ent, values, record="-"):
        return False
    geom = changes.get("geometry")
    if ent.geometry and geom is not None:
        geom = as_multipolygon(geom) if "Polygon" in ent.geometry else geom
        if not same_geometry(geom, row["geom"]):
            return False
    return all(row.get(k) == v for k, v in values.items())


def _import_release(uow, actor, resolver, feature: Feature, data: dict[str, Any]) -> str:
    ref = data.get("activity") or data.get("activity_id")
    activity_id = resolver.lookup("activities", ref) if ref not in (None, "") else None
    if activity_id is None:
        raise Invalid(Problem(feature.ref, "activity", f"unknown activity {ref!r}"))
    current = uow.conn.execute(select(land_releases.c.geom).where(
        land_releases.c.activity_id == activity_id)).scalar()
    geom = as_multipolygon(feature.geometry) if feature.geometry is not None else None
    if current is not None and same_geometry(current, geom):
        return "unchanged"
    version = uow.conn.execute(select(activities.c.version).where(
        activities.c.id == activity_id)).scalar()
    update_record(uow, actor=actor, layer="activities", record_id=activity_id,
                  changes={RELEASED: geom}, expected_version=version)
    return "created" if current is None else "updated"
