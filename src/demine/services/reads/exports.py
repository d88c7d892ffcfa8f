"""Export: the layers an actor may see, as format-neutral LayerData for any writer."""

from __future__ import annotations

from sqlalchemy import Boolean, Date, Float, Integer, Table, select

from demine.domain.actors import Actor
from demine.domain.errors import Invalid, Problem
from demine.domain.permissions import sees_personal_data
from demine.formats.base import LayerData
from demine.services.access.permissions import visible
from demine.storage.database import UnitOfWork
from demine.storage.tables import ATTRIBUTE_TABLES, LAYERS, Geometry, Timestamp, table

EXPORTABLE = (*LAYERS, *ATTRIBUTE_TABLES)


def _kind(column) -> str | None:
    kinds = ((Geometry, None), (Timestamp, "datetime"), (Boolean, "bool"), (Integer, "int"),
             (Float, "float"), (Date, "date"))
    for sql_type, kind in kinds:
        if isinstance(column.type, sql_type):
            return kind
    return "text"


def export_layers(
    uow: UnitOfWork, *, actor: Actor, layers: list[str] | None = None
) -> list[LayerData]:
    """Each requested layer (all by default) filtered by what ``actor`` may see."""
    names = layers or list(EXPORTABLE)
    unknown = [n for n in names if n not in EXPORTABLE]
    if unknown:
        raise Invalid([Problem("export", "layer", f"unknown layer {n!r} "
                               f"(known: {', '.join(EXPORTABLE)})") for n in unknown])
    return [_layer(uow, actor, name) for name in names]


def _layer(uow: UnitOfWork, actor: Actor, name: str) -> LayerData:
    t = table(name)
    columns = [c for c in t.columns if c.name != "geom" and _allowed(actor, c)]
    refs = _reference_codes(t)
    query = select(*columns, *(code for _, code, _ in refs))
    join = t
    for fk_column, _code, target in refs:
        join = join.outerjoin(target, fk_column == target.c.id)
    if "geom" in t.c:
        query = query.add_columns(t.c.geom)
    query = query.select_from(join).where(visible(actor, t)).order_by(t.c.id)
    rows, geometries = [], []
    for row in uow.conn.execute(query).mappings():
        record = dict(row)
        geometries.append(record.pop("geom", None))
        rows.append(record)
    described = [(c.name, _kind(c)) for c in columns] + [(code.name, "text") for _, code, _ in refs]
    return LayerData(name, described, rows, geometries if "geom" in t.c else [],
                     _geometry_type(name))


def _allowed(actor: Actor, column) -> bool:
    """Personal casualty fields only for holders of the casualty-personal grant."""
    return not column.info.get("sensitive") or sees_personal_data(actor)


def _reference_codes(t: Table):
    """For each foreign key to a table with codes: (fk column, that table's code, table)."""
    refs = []
    for fk in sorted(t.foreign_keys, key=lambda f: f.parent.name):
        target = fk.column.table
        if fk.parent.name.endswith("_id") and "code" in target.c:
            alias = target.alias(f"ref_{fk.parent.name}")
            refs.append((fk.parent, alias.c.code.label(fk.parent.name.removesuffix("_id")),
                         alias))
    return refs


def _geometry_type(name: str) -> str | None:
    return {"MULTIPOLYGON": "MultiPolygon", "POINT": "Point",
            "LINESTRING": "LineString"}.get(LAYERS.get(name, ""))
