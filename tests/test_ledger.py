"""Property: any sequence of releases keeps every hazard's ledger balanced to 0.01 m²."""

from __future__ import annotations

import numpy as np
import pyogrio
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import MultiPoint, box
from sqlalchemy import select, text

from demine.domain.actors import Actor
from demine.domain.errors import Invalid
from demine.domain.geodesy import geodesic_area
from demine.domain.geometry_rules import as_multipolygon
from demine.domain.ledger import remaining_geometry
from demine.services.loading import reference_data as reference
from demine.services.records import crud as records
from demine.storage.tables import hazards, land_releases

ACTOR = Actor.system("test")
coords = st.tuples(st.floats(0, 0.02), st.floats(0, 0.02))


def _setup(database):
    with database.transaction() as uow:
        reference.add_organisation(uow, actor=ACTOR, code="OPS", name="Operator", kind="operator")


def _ring(geod, ring) -> float:
    """pyproj.Geod area of a ring drawn with straight lon/lat edges (points every ~1 m)."""
    lon, lat = [], []
    xy = list(ring.coords)
    for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:], strict=True):
        n = max(int(np.hypot(x1 - x0, y1 - y0) / 1e-5), 1)
        lon.extend(np.linspace(x0, x1, n, endpoint=False))
        lat.extend(np.linspace(y0, y1, n, endpoint=False))
    return abs(geod.polygon_area_perimeter(lon, lat)[0])


def _independent_area(geom) -> float:
    """Area by pyproj.Geod computed here, apart from demine's own geodesy module."""
    geod = Geod(ellps="WGS84")
    total = 0.0
    for poly in shapely.get_parts(geom):
        total += _ring(geod, poly.exterior) - sum(_ring(geod, r) for r in poly.interiors)
    return total


def _check_balance(database, hazard_id: int) -> None:
    with database.read() as uow:
        row = uow.conn.execute(select(hazards).where(hazards.c.id == hazard_id)).one()
        releases = uow.conn.execute(
            select(land_releases.c.geom).where(land_releases.c.hazard_id == hazard_id)
        ).scalars().all()
    released = row.cancelled_m2 + row.reduced_m2 + row.cleared_m2
    assert abs(row.baseline_m2 - released - row.remaining_m2) < 0.01
    derived = geodesic_area(remaining_geometry(row.geom, list(releases)))
    assert abs(derived - row.remaining_m2) < 0.01 + 1e-9 * row.baseline_m2
    assert abs(sum(geodesic_area(g) for g in releases) - released) < 0.01


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    hull=st.lists(coords, min_size=4, max_size=12, unique=True),
    cuts=st.lists(st.tuples(coords, coords, st.sampled_from(["nts", "ts", "clearance", "bac"]),
                            st.booleans()), min_size=1, max_size=6),
)
def test_random_release_sequences_keep_the_ledger_balanced(database, hull, cuts):
    """Releases are trimmed to the hazard or refused; the ledger always balances."""
    with database.read() as uow:
        has_org = uow.conn.execute(text("SELECT count(*) FROM organisations")).scalar()
    if not has_org:
        _setup(database)
    polygon = MultiPoint([(30.5 + x, 48.2 + y) for x, y in hull]).convex_hull
    if polygon.geom_type != "Polygon" or geodesic_area(polygon) < 10:
        return
    with database.transaction() as uow:
        hazard = records.create_record(uow, actor=ACTOR, layer="hazards", data={
            "hazard_type": "SHA", "organisation": "OPS", "reported_on": "2025-01-01",
            "geometry": polygon})
    for (x0, y0), (x1, y1), kind, exact in cuts:
        piece = box(30.5 + min(x0, x1), 48.2 + min(y0, y1), 30.5 + max(x0, x1) + 1e-4,
                    48.2 + max(y0, y1) + 1e-4)
        if exact:  # a clean release: inside the hazard, not yet released ground
            with database.read() as uow:
                before = uow.conn.execute(select(land_releases.c.geom).where(
                    land_releases.c.hazard_id == hazard["id"])).scalars().all()
            piece = as_multipolygon(
                remaining_geometry(polygon, list(before)).intersection(piece))
            if piece.is_empty or not piece.is_valid or geodesic_area(piece) < 1:
                continue
        try:
            with database.transaction() as uow:
                records.create_record(uow, actor=ACTOR, layer="activities", data={
                    "hazard": hazard["code"], "kind": kind, "status": "completed",
                    "organisation": "OPS", "end_date": "2025-06-01", "geometry": piece,
                    "released_geom": piece})
        except Invalid as exc:
            assert not exact, f"a clean release was refused: {exc}"
        _check_balance(database, hazard["id"])


def test_areas_match_an_independent_geodesic_computation(database, store_url):
    """Baselines equal pyproj on the geometry GDAL reads (GeoPackage) or PostGIS geography."""
    _setup(database)
    shapes = [box(30.1, 48.1, 30.11, 48.105), MultiPoint(
        [(31.0, 47.5), (31.02, 47.51), (31.01, 47.53), (30.99, 47.52)]).convex_hull]
    with database.transaction() as uow:
        for shape in shapes:
            records.create_record(uow, actor=ACTOR, layer="hazards", data={
                "hazard_type": "CHA", "organisation": "OPS", "reported_on": "2025-01-01",
                "geometry": shape})
    if store_url.startswith("sqlite"):
        path = store_url.removeprefix("sqlite:///")
        _meta, _fids, geoms, fields = pyogrio.raw.read(path, layer="hazards",
                                                       columns=["baseline_m2"])
        for wkb, baseline in zip(geoms, fields[0], strict=True):
            assert abs(_independent_area(shapely.from_wkb(wkb)) - baseline) < 0.01
    else:
        with database.read() as uow:
            rows = uow.conn.execute(text(
                "SELECT ST_Area(ST_Segmentize(geom, 1e-5)::geography, true), baseline_m2 "
                "FROM hazards")).all()
        for postgis_area, baseline in rows:
            assert abs(postgis_area - baseline) < 0.05  # GeographicLib vs PostGIS spheroid
