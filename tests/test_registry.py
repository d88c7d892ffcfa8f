"""The layer registry (``domain.entities``) is the one place a layer is described: everything
else reads it. These tests hold each entry to the table it describes and check that what is
derived from it (dependency order, the predicate's parents, per-layer triggers) is sound, so
a new layer that is registered wrongly fails here, not in production."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DBAPIError

from demine.domain import entities
from demine.domain.entities import ENTITIES, REGISTRY, import_order, storage_geometry
from demine.services.access import permissions
from demine.storage import layer_triggers, schema
from demine.storage.tables import ATTRIBUTE_TABLES, LAYERS, VERSIONED, metadata, organisations
from demine.web.ogc.spec import COLLECTIONS

NEED_TO_KNOW = ("organisation_id", "sensitivity", "review_status")


@pytest.mark.parametrize("name", list(REGISTRY))
def test_each_layer_matches_its_table(name):
    e = REGISTRY[name]
    t = metadata.tables[name]
    assert ("geom" in t.c) == bool(e.geometry)
    assert LAYERS.get(name) == storage_geometry(e)
    assert (name in ATTRIBUTE_TABLES) == (not e.geometry)
    for f in e.fields:
        assert f.name in t.c, f"{name}.{f.name} is registered but not a column"
    for column in (e.date_field, e.type_field):
        assert column is None or column in t.c
    if e.tiles:
        assert set(e.tiles.properties) <= set(t.c.keys())
    if e.versioned and e.group == entities.RECORD:
        assert f"{name}_history" in metadata.tables and name in VERSIONED
    if e.group == entities.RECORD and e.seen != entities.AS_PARENT:
        assert set(NEED_TO_KNOW) <= set(t.c.keys()), "the predicate reads these columns"
    if e.seen == entities.AS_PARENT:
        assert "review_status" not in t.c, "seen as its parent: no need-to-know of its own"


@pytest.mark.parametrize("name", list(REGISTRY))
def test_references_and_parents_are_registered_before_the_layer(name):
    e, order = REGISTRY[name], import_order()
    for f in e.ref_fields:
        assert f.ref in REGISTRY
        assert f.ref == name or order.index(f.ref) < order.index(name), (
            f"{name}.{f.name} refers to {f.ref}, imported after it")
    if e.parent is not None:
        fk, parent = e.parent
        assert e.field(fk) is not None and e.field(fk).ref == parent
        assert e.seen != entities.OWN
    else:
        assert e.seen == entities.OWN
    if e.written_through is not None:
        assert name not in ENTITIES and e.written_through in ENTITIES


def test_the_predicate_and_the_collections_are_read_from_the_registry():
    reference = {n for n, e in REGISTRY.items() if e.group == entities.REFERENCE}
    assert reference == permissions.REFERENCE
    for family in (permissions.CHILDREN, permissions.MIRRORS, permissions.PARENTS):
        for name, parent in family.items():
            assert REGISTRY[name].parent == parent
    assert set(COLLECTIONS) == {n for n, e in REGISTRY.items() if e.collection}
    assert sorted(import_order()) == sorted(REGISTRY)


def _drop_triggers(conn, sqlite: bool, layer: str) -> None:
    if sqlite:
        for event in ("insert", "delete"):
            conn.exec_driver_sql(f"DROP TRIGGER id_high_water_{layer}_{event}")
    else:
        for trigger in ("id_high_water_track", "id_high_water_guard"):
            conn.exec_driver_sql(f"DROP TRIGGER {trigger} ON {layer}")
    conn.exec_driver_sql(f"DELETE FROM id_high_water WHERE table_name = '{layer}'")


def test_every_registered_layer_gets_its_triggers_from_the_schema_step(database):
    """A layer registered after the migrations that made the triggers gets them from
    ``schema.finish``: here organisations lose theirs (as a new layer would lack them), the
    step gives them back, and an id of a deleted organisation is then never reused."""
    sqlite = database.is_sqlite
    with database.engine.begin() as conn:
        assert layer_triggers.ensure(conn) == []  # a migrated store has them all
        _drop_triggers(conn, sqlite, "organisations")
        schema.finish(conn)
        high = conn.execute(select(organisations.c.id).order_by(organisations.c.id.desc())
                            ).scalar() or 0
        row = {"id": high + 7, "code": "GONE", "name": "Gone", "kind": "ngo",
               "created_at": datetime.now(UTC)}
        conn.execute(insert(organisations).values(row))
        conn.execute(delete(organisations).where(organisations.c.id == high + 7))
    with (pytest.raises(DBAPIError, match="already used by a deleted record"),
          database.engine.begin() as conn):
        conn.execute(insert(organisations).values(row))


def _meaningful(diff) -> bool:
    """A difference between the migrated store and the table definitions that matters: not
    the GeoPackage/PostGIS bookkeeping (gpkg_*, rtree_*, spatial_ref_sys, the version row,
    spatial indexes made by ``schema.finish``) nor the geometry type SQLite reflects."""
    kind = diff[0][0] if isinstance(diff, list) else diff[0]
    if kind == "remove_table":
        return diff[1].name in metadata.tables
    if kind == "modify_type":
        return diff[0][3] != "geom"
    if kind == "remove_index":
        return not diff[1].name.endswith("_geom_gist")
    return True


def test_the_migrations_build_the_tables_the_code_defines(database):
    """A table, column or index defined in storage but missing from the migrations (or left
    behind by them) fails here: a new layer's table comes with its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with database.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diffs if _meaningful(d)] == []
