"""Vector tiles and TileJSON over the demo region, through the HTTP client, on both stores.

A tile must hold exactly the features the permission-filtered API lists there: every record
the actor may see whose geometry meets the tile (unless it is under a pixel or two), and
nothing the actor may not see.
"""

from __future__ import annotations

import json
import math

import mapbox_vector_tile
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import box, shape

from demine.services.tiles.grid import tile_of
from demine.settings import Settings
from demine.web.app import create_app

MVT = "application/vnd.mapbox-vector-tile"
BUFFER = 64 / 4096  # of a tile, each side
PIXEL = 4096 / 256  # grid cells in a pixel of a 256-pixel tile: the simplification tolerance
ACTORS = ("anonymous", "operator", "admin")
PROPERTIES = {"hazards": {"id", "code", "name", "hazard_type", "status", "reported_on",
                          "organisation_id", "sensitivity", "review_status"},
              "eo_finds": {"id", "code", "category", "model_code", "disposal",
                           "organisation_id", "sensitivity", "review_status"}}


@pytest.fixture
def store_url(demo_url):
    """Each test's store (``cli``, ``client``) is a private copy of the small demo region."""
    return demo_url


@pytest.fixture
def client(cli):
    """An HTTP client on the test's demo store (with its demo sign-ins)."""
    app = create_app(Settings(database_url=cli.url))
    with TestClient(app) as http:
        yield http
    app.state.database.dispose()


def _headers(client, role: str) -> dict[str, str]:
    if role == "anonymous":
        return {}
    response = client.post("/api/v1/auth/token", json={
        "email": f"{role}@demo.demine.org", "password": f"demine-demo-{role}"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _bounds(z: int, x: int, y: int, margin: float = 0.0) -> tuple[float, float, float, float]:
    """What tile z/x/y covers, worked out apart from ``grid.tile_bounds``: the oracle of what
    a tile must hold."""
    n = 2**z

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return ((x - margin) / n * 360 - 180, lat(y + 1 + margin),
            (x + 1 + margin) / n * 360 - 180, lat(y - margin))


def _grid_cells(geom, z: int) -> float:
    """About how many cells of the 4096 grid the geometry spans (inf for a point). A polygon
    under a pixel wide is simplified to a triangle that snapping to the grid may flatten: both
    stores then drop it, as ST_AsMVTGeom does."""
    if geom.geom_type == "Point":
        return math.inf
    minx, miny, maxx, maxy = geom.bounds
    return max(maxx - minx, maxy - miny) / 360 * 2**z * 4096


def _listed(client, headers, layer: str, bbox) -> dict[str, object]:
    """code → geometry of every record the API lists to this actor in ``bbox``."""
    out, offset = {}, 0
    while True:
        page = client.get(f"/api/v1/{layer}", headers=headers, params={
            "bbox": ",".join(map(repr, bbox)), "limit": 1000, "offset": offset}).json()
        out.update({item["code"]: shape(item["geometry"]) for item in page["items"]})
        offset += 1000
        if offset >= page["total"]:
            return out


def _tile(client, headers, layer: str, z: int, x: int, y: int) -> list[dict]:
    response = client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf", headers=headers)
    if response.status_code == 204:
        return []
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MVT
    decoded = mapbox_vector_tile.decode(response.content)
    assert set(decoded) == {layer}
    assert decoded[layer]["extent"] == 4096
    return decoded[layer]["features"]


def _tiles_around(client, layer: str, zooms, role: str = "admin") -> list[tuple[int, int, int]]:
    """A tile at each zoom around the first few records ``role`` sees (data, not ocean)."""
    items = client.get(f"/api/v1/{layer}", headers=_headers(client, role),
                       params={"limit": 3}).json()["items"]
    tiles = set()
    for item in items:
        point = shape(item["geometry"]).representative_point()
        tiles.update((z, *tile_of(point.x, point.y, z)) for z in zooms)
    return sorted(tiles)


@pytest.mark.parametrize("layer,zooms", [("hazards", (8, 11, 14)), ("eo_finds", (10, 13))])
def test_tiles_hold_what_the_api_lists_there_for_each_actor(client, layer, zooms):
    for role in ACTORS:
        headers = _headers(client, role)
        for z, x, y in _tiles_around(client, layer, zooms):
            features = _tile(client, headers, layer, z, x, y)
            codes = {f["properties"]["code"] for f in features}
            near = _listed(client, headers, layer, _bounds(z, x, y, BUFFER))
            inside = box(*_bounds(z, x, y))
            meets = {code for code, geom in near.items()
                     if geom.intersects(inside) and _grid_cells(geom, z) >= 2 * PIXEL}
            assert meets <= codes <= set(near), (role, z, x, y)
            for f in features:
                assert set(f["properties"]) <= PROPERTIES[layer]
                assert f["id"] == f["properties"]["id"]


def test_features_outside_an_actors_rights_never_appear(client):
    tiles = _tiles_around(client, "hazards", (8, 10))
    seen = {}
    for role in ACTORS:
        headers = _headers(client, role)
        seen[role] = {f["id"]: f["properties"] for t in tiles
                      for f in _tile(client, headers, "hazards", *t)}
    assert all(p["sensitivity"] == "public" and p["review_status"] == "approved"
               for p in seen["anonymous"].values())
    assert set(seen["anonymous"]) < set(seen["operator"]) < set(seen["admin"])
    operator = _headers(client, "operator")
    for record_id in set(seen["admin"]) - set(seen["operator"]):
        assert client.get(f"/api/v1/hazards/{record_id}", headers=operator).status_code == 404


def test_etag_revalidates_per_actor_and_cache_control_follows_sign_in(client):
    z, x, y = _tiles_around(client, "hazards", (9,), role="anonymous")[0]
    path = f"/tiles/hazards/{z}/{x}/{y}.pbf"
    anonymous = client.get(path)
    assert anonymous.status_code == 200
    assert anonymous.headers["cache-control"].startswith("public")
    tag = anonymous.headers["etag"]
    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["etag"] == tag and not again.content
    admin = _headers(client, "admin")
    signed_in = client.get(path, headers={**admin, "If-None-Match": tag})
    assert signed_in.status_code == 200  # another visibility scope: another validator
    assert signed_in.headers["cache-control"].startswith("private")
    assert client.get(path, headers={**admin, "If-None-Match": signed_in.headers["etag"]}
                      ).status_code == 304


def test_tilejson_describes_each_layer(client):
    admin, anonymous = _headers(client, "admin"), _headers(client, "anonymous")
    for layer in ("hazards", "activities", "land_releases", "eo_finds", "admin_areas"):
        doc = client.get(f"/tiles/{layer}.json", headers=admin).json()
        assert doc["tilejson"] == "3.0.0" and doc["scheme"] == "xyz"
        assert doc["tiles"][0].endswith(f"/tiles/{layer}/{{z}}/{{x}}/{{y}}.pbf")
        assert 0 <= doc["minzoom"] <= doc["maxzoom"] <= 30
        west, south, east, north = doc["bounds"]
        assert -180 <= west <= east <= 180 and -85.06 <= south <= north <= 85.06
        [vector] = doc["vector_layers"]
        assert vector["id"] == layer and vector["fields"]["id"] == "Number"
        assert set(vector["fields"].values()) <= {"Number", "String", "Boolean"}
    public = client.get("/tiles/hazards.json", headers=anonymous).json()["bounds"]
    everything = client.get("/tiles/hazards.json", headers=admin).json()["bounds"]
    assert everything[0] <= public[0] and public[2] <= everything[2]
    finds = client.get("/tiles/eo_finds.json").json()
    z, x, y = _tiles_around(client, "eo_finds", (finds["minzoom"] - 1,))[0]
    assert client.get(f"/tiles/eo_finds/{z}/{x}/{y}.pbf").status_code == 204  # below minzoom


def test_low_zoom_tiles_carry_fewer_vertices(client):
    admin = _headers(client, "admin")
    items = client.get("/api/v1/hazards", headers=admin, params={"limit": 200}).json()["items"]
    hazard = max(items, key=lambda i: shapely.get_num_coordinates(shape(i["geometry"])))
    geom = shape(hazard["geometry"])
    point = geom.representative_point()

    def vertices(z: int) -> int:
        x, y = tile_of(point.x, point.y, z)
        [found] = [f for f in _tile(client, admin, "hazards", z, x, y) if f["id"] == hazard["id"]]
        rings = found["geometry"]["coordinates"]
        if found["geometry"]["type"] == "MultiPolygon":
            rings = [ring for polygon in rings for ring in polygon]
        return sum(len(ring) for ring in rings)

    def within_one_tile(z: int) -> bool:
        return len({tile_of(cx, cy, z) for cx, cy in shapely.get_coordinates(geom)}) == 1

    fitting = max(z for z in range(8, 19) if within_one_tile(z))
    low, high = vertices(fitting - 3), vertices(fitting)
    assert low < high <= shapely.get_num_coordinates(geom), (fitting, low, high)


def test_bad_tile_addresses_get_the_error_shape(client):
    for path, status in (("/tiles/hazards/0/1/0.pbf", 404), ("/tiles/hazards/3/-1/0.pbf", 404),
                         ("/tiles/hazards/40/0/0.pbf", 404), ("/tiles/nowhere/0/0/0.pbf", 404),
                         ("/tiles/users/0/0/0.pbf", 404), ("/tiles/hazards/a/0/0.pbf", 422),
                         ("/tiles/nowhere.json", 404)):
        response = client.get(path)
        assert response.status_code == status, path
        assert response.json()["error"]["message"], path
    empty = client.get("/tiles/hazards/8/0/0.pbf")  # the Arctic Pacific: nothing there
    assert empty.status_code == 204 and not empty.content


def _fetch(client, headers, path: str):
    response = client.get(path, headers=headers)
    assert response.status_code in (200, 204), response.text
    return response.content, response.headers.get("etag")


def test_cached_tiles_equal_fresh_ones_for_every_actor(client, cli):
    """Served by one app in the order most likely to leak (the widest view first, so that its
    tiles are cached when the narrower ones ask): every tile, byte for byte, is what an app
    without a cache makes for the same actor."""
    signed_in = {role: _headers(client, role) for role in ("admin", "operator", "anonymous")}
    tiles = _tiles_around(client, "hazards", (8, 10, 12))
    paths = [f"/tiles/hazards/{z}/{x}/{y}.pbf" for z, x, y in tiles]
    cache = client.app.state.tile_cache
    before = cache.stats()
    served = {(role, path): _fetch(client, headers, path)
              for role, headers in signed_in.items() for path in paths for _ in range(2)}
    after = cache.stats()
    assert after["hits"] - before["hits"] >= len(signed_in) * len(paths)  # 2nd asks were hits
    uncached = Settings(database_url=cli.url, tile_cache_mb=0)
    with TestClient(create_app(uncached)) as fresh:
        assert not fresh.app.state.tile_cache.enabled
        for (role, path), (content, etag) in served.items():
            assert _fetch(fresh, signed_in[role], path) == (content, etag), (role, path)
    assert len({served["admin", p] for p in paths} | {served["anonymous", p] for p in paths}) \
        > len(paths)  # the scopes did see different tiles


def test_a_change_shows_in_the_next_tile(client):
    """A cached tile is not served after anything changed: a renamed hazard carries its new
    name in the very next tile, and its validator changes."""
    admin = _headers(client, "admin")
    hazard = client.get("/api/v1/hazards", headers=admin, params={"limit": 1}).json()["items"][0]
    point = shape(hazard["geometry"]).representative_point()
    path = "/tiles/hazards/{}/{}/{}.pbf".format(12, *tile_of(point.x, point.y, 12))

    def name_in_tile() -> tuple[str, str]:
        content, etag = _fetch(client, admin, path)
        [found] = [f for f in mapbox_vector_tile.decode(content)["hazards"]["features"]
                   if f["id"] == hazard["id"]]
        return found["properties"]["name"], etag

    first = name_in_tile()
    assert name_in_tile() == first  # now from the cache
    location = f"/api/v1/hazards/{hazard['id']}"
    tag = client.get(location, headers=admin).headers["ETag"]
    renamed = client.patch(location, json={"name": "Renamed after caching"}, headers={
        **admin, "Content-Type": "application/merge-patch+json", "If-Match": tag})
    assert renamed.status_code == 200, renamed.text
    name, etag = name_in_tile()
    assert name == "Renamed after caching" and etag != first[1]


def test_a_grant_shows_in_the_next_tile(client, cli):
    """Naming an organisation on a restricted record changes what its users' cached tiles
    hold at once."""
    from sqlalchemy import select

    from demine.domain.actors import Actor
    from demine.services.access.sharing import grant_record
    from demine.storage.database import Database
    from demine.storage.tables import organisations, users

    admin, operator = _headers(client, "admin"), _headers(client, "operator")
    restricted = [h for h in client.get("/api/v1/hazards", headers=admin, params={
        "limit": 1000}).json()["items"] if h["sensitivity"] == "restricted"
        and client.get(f"/api/v1/hazards/{h['id']}", headers=operator).status_code == 404]
    assert restricted, "the demo holds restricted hazards the operator may not see"
    hazard = restricted[0]
    point = shape(hazard["geometry"]).representative_point()
    path = "/tiles/hazards/{}/{}/{}.pbf".format(12, *tile_of(point.x, point.y, 12))

    def ids() -> set[int]:
        content, _ = _fetch(client, operator, path)
        return {f["id"] for f in mapbox_vector_tile.decode(content).get("hazards", {}).get(
            "features", [])}

    assert hazard["id"] not in ids() and hazard["id"] not in ids()  # made, then cached
    database = Database(Settings(database_url=cli.url))
    with database.transaction() as uow:
        org = uow.conn.execute(select(organisations.c.code).join(
            users, users.c.organisation_id == organisations.c.id).where(
            users.c.email == "operator@demo.demine.org")).scalar_one()
        grant_record(uow, actor=Actor.system("test"), layer="hazards",
                     record_id=hazard["id"], organisation=org)
    database.dispose()
    assert hazard["id"] in ids()


def test_the_tile_cache_keeps_its_budget_and_only_the_latest_head(tmp_path):
    from demine.services.tiles.cache import ENTRY_OVERHEAD, Tile, TileCache

    def tile(text: str) -> Tile:
        return Tile(text.encode().ljust(100), f'"{text}"')

    budget = 3 * (100 + ENTRY_OVERHEAD)
    for shared in (None, tmp_path / "tiles.sqlite"):
        cache = TileCache(budget, shared)
        for n in range(3):
            cache.put(7, ("hazards", 14, n, 0, "admin"), tile(f"tile {n}"))
        assert cache.get(7, ("hazards", 14, 0, 0, "admin")) == tile("tile 0")
        cache.put(7, ("hazards", 14, 3, 0, "admin"), tile("tile 3"))  # over budget: one goes
        assert cache.stats()["bytes"] <= budget and cache.stats()["entries"] == 3
        assert cache.get(7, ("hazards", 14, 0, 0, "public")) is None  # another scope
        cache.put(6, ("hazards", 14, 9, 0, "admin"), tile("made before a change"))
        assert cache.get(6, ("hazards", 14, 9, 0, "admin")) is None  # older head: not kept
        assert cache.get(8, ("hazards", 14, 0, 0, "admin")) is None  # a change: all stale
        cache.put(8, ("hazards", 14, 0, 0, "admin"), tile("remade"))
        assert cache.stats()["entries"] == 1
        cache.put(8, ("hazards", 8, 0, 0, "admin"), Tile(b"x" * budget, '"big"'))
        assert cache.get(8, ("hazards", 8, 0, 0, "admin")) is None  # over the whole budget
    memory_only = TileCache(budget)
    assert memory_only.get(8, ("hazards", 14, 0, 0, "admin")) is None
    assert not TileCache(0).enabled


def test_workers_share_what_one_of_them_made(tmp_path):
    """Two caches on one shared file stand for two worker processes of a server: a tile the
    first made is found by the second; after a change neither serves it."""
    from demine.services.tiles.cache import Tile, TileCache

    first, second = (TileCache(2**20, tmp_path / "tiles.sqlite") for _ in range(2))
    key = ("hazards", 9, 300, 200, "admin")
    assert first.get(41, key) is None  # a miss: the first worker makes it
    first.put(41, key, Tile(b"made by the first worker", '"a"'))
    assert second.get(41, key) == Tile(b"made by the first worker", '"a"')
    assert second.get(42, key) is None and first.get(42, key) is None
    second.put(42, key, Tile(b"remade after the change", '"b"'))
    first.put(41, ("hazards", 9, 301, 200, "admin"), Tile(b"late", '"c"'))  # older: dropped
    third = TileCache(2**20, tmp_path / "tiles.sqlite")
    assert third.get(42, key) == Tile(b"remade after the change", '"b"')
    assert third.get(42, ("hazards", 9, 301, 200, "admin")) is None


def test_a_change_drops_only_the_tiles_it_touched(tmp_path):
    """Moving to a newer head drops, in memory and in the shared file, the tiles whose area
    (grown by the MVT buffer) meets the bounds a change logged in that layer, at every zoom;
    tiles elsewhere, and of other layers, stay. A change of grants drops everything."""
    from demine.services.tiles.cache import Tile, TileCache
    from demine.services.tiles.changes import EVERYTHING, Changes

    lon, lat = 44.0123, 33.3051
    changed = Changes(layers={"hazards": [(lon - 1e-4, lat - 1e-4, lon + 1e-4, lat + 1e-4)]})
    near = [("hazards", z, *tile_of(lon, lat, z), "admin") for z in (8, 12, 16)]
    x, y = tile_of(lon, lat, 12)
    keep = [("hazards", 12, x + 2, y, "admin"), ("eo_finds", 12, x, y, "admin"),
            ("hazards", 16, *tile_of(lon + 0.01, lat, 16), "admin")]
    for shared in (None, tmp_path / "tiles.sqlite"):
        cache = TileCache(2**20, shared)
        keys = [*near, *keep]
        for key in keys:
            assert cache.get(5, key) is None
            cache.put(5, key, Tile(repr(key).encode(), f'"{key}"'))
        asked: list[int] = []

        def since(head, head_hash, changes=changed, asked=asked):
            asked.append(head)
            return changes

        assert [cache.get(6, key, since) for key in near] == [None] * len(near)
        assert all(cache.get(6, key, since) == Tile(repr(key).encode(), f'"{key}"')
                   for key in keep)
        assert asked[0] == 5 and len(asked) == (2 if shared else 1)  # memory, then the file
        # A tile next to the changed one holds it in its buffer when the change reaches in.
        border = ("hazards", 12, x + 1, y, "admin")
        cache.put(6, border, Tile(b"border", '"border"'))
        east = _bounds(12, x, y)[2]
        reaching = Changes(layers={"hazards": [(east - 1e-6, lat, east - 1e-6, lat)]})
        assert cache.get(7, border, lambda head, head_hash, found=reaching: found) is None
        assert cache.get(7, keep[0]) is not None  # the border change reached no further
        assert cache.get(8, keep[0], lambda head, head_hash: EVERYTHING) is None  # grants: all go


def test_an_edit_drops_only_its_tiles_and_they_are_remade_in_the_background(client):
    """On the app: after a hazard is renamed, a tile elsewhere is still served from the cache
    (a hit, same bytes) while the hazard's tiles at every zoom show the new name; the server
    remade them in the background, so those asks are hits too. A change of sensitivity that
    hides a hazard from an operator is in the operator's next tile."""
    admin, operator = _headers(client, "admin"), _headers(client, "operator")
    cache = client.app.state.tile_cache
    hazards = client.get("/api/v1/hazards", headers=operator, params={"limit": 1000}).json()
    visible = [h for h in hazards["items"] if h["sensitivity"] in ("public", "shared")
               and h["review_status"] == "approved"]
    hazard = visible[0]
    point = shape(hazard["geometry"]).representative_point()
    zooms = (8, 11, 14)
    own = {z: "/tiles/hazards/{}/{}/{}.pbf".format(z, *tile_of(point.x, point.y, z))
           for z in zooms}
    far = [h for h in visible if tile_of(*_centre(h), 11) != tile_of(point.x, point.y, 11)
           and not shape(h["geometry"]).buffer(0.05).intersects(shape(hazard["geometry"]))]
    elsewhere = "/tiles/hazards/{}/{}/{}.pbf".format(14, *tile_of(*_centre(far[0]), 14))

    def names(headers, path) -> dict[int, str]:
        content, _ = _fetch(client, headers, path)
        return {f["id"]: f["properties"]["name"] for f in mapbox_vector_tile.decode(
            content).get("hazards", {}).get("features", [])}

    for headers in (admin, operator):
        for path in (*own.values(), elsewhere):
            names(headers, path)
    before_far = _fetch(client, admin, elsewhere)
    location = f"/api/v1/hazards/{hazard['id']}"
    tag = client.get(location, headers=admin).headers["ETag"]
    renamed = client.patch(location, json={"name": "Renamed near the tile"}, headers={
        **admin, "Content-Type": "application/merge-patch+json", "If-Match": tag})
    assert renamed.status_code == 200, renamed.text
    hits = cache.hits
    assert _fetch(client, admin, elsewhere) == before_far
    assert cache.hits == hits + 1  # not touched: still the cached tile
    assert cache.reseed.wait(60)
    assert cache.reseed.made >= 2 * len(zooms)  # each zoom, for both scopes that asked
    hits = cache.hits
    for z, path in own.items():
        assert names(admin, path)[hazard["id"]] == "Renamed near the tile", z
        assert names(operator, path)[hazard["id"]] == "Renamed near the tile", z
    assert cache.hits == hits + 2 * len(zooms)  # remade in the background already
    tag = renamed.headers["ETag"]
    hidden = client.patch(location, json={"sensitivity": "confidential"}, headers={
        **admin, "Content-Type": "application/merge-patch+json", "If-Match": tag})
    assert hidden.status_code == 200, hidden.text
    for path in own.values():
        assert hazard["id"] not in names(operator, path)
        assert hazard["id"] in names(admin, path)
    assert _fetch(client, operator, elsewhere)[0] == _fetch(client, operator, elsewhere)[0]


def test_a_release_recorded_on_a_hazard_shows_its_new_status_in_the_next_tile(client):
    """An activity changes its hazard's status and ledger through the activity service (no
    audit entry names the hazard itself): the triggers log the hazard's row all the same."""
    admin = _headers(client, "admin")
    hazards = client.get("/api/v1/hazards", headers=admin, params={"limit": 1000}).json()
    hazard = next(h for h in hazards["items"] if h["status"] == "open"
                  and h["review_status"] == "approved" and h["remaining_m2"] > 0)
    point = shape(hazard["geometry"]).representative_point()
    path = "/tiles/hazards/{}/{}/{}.pbf".format(13, *tile_of(point.x, point.y, 13))

    def status() -> str:
        content, _ = _fetch(client, admin, path)
        return {f["id"]: f["properties"]["status"] for f in mapbox_vector_tile.decode(
            content)["hazards"]["features"]}[hazard["id"]]

    assert status() == status() == hazard["status"]  # made, then cached
    cleared = client.post("/api/v1/activities", headers=admin, json={
        "hazard_id": hazard["id"], "kind": "clearance", "status": "completed",
        "start_date": "2025-06-01", "end_date": "2025-06-20", "depth_cm": 30,
        "organisation_id": hazard["organisation_id"], "geometry": hazard["geometry"],
        "released_geometry": hazard["geometry"]})
    assert cleared.status_code == 201, cleared.text
    now = client.get(f"/api/v1/hazards/{hazard['id']}", headers=admin).json()["status"]
    assert now != hazard["status"]
    assert status() == now


def _centre(record: dict) -> tuple[float, float]:
    point = shape(record["geometry"]).representative_point()
    return point.x, point.y


def test_dense_point_tiles_keep_one_feature_per_pixel(client, cli):
    """A point layer's tile holding more features than DEMINE_TILE_POINT_LIMIT keeps, of each
    pixel (16 × 16 cells of the 4096 grid), its feature of the lowest id, with `represents`:
    how many features of that pixel it stands for. Below the limit nothing changes."""
    admin = _headers(client, "admin")
    down = {"y_coord_down": True}

    def features(http, path) -> list[dict]:
        response = http.get(path, headers=admin)
        assert response.status_code in (200, 204), response.text
        if response.status_code == 204:
            return []
        return mapbox_vector_tile.decode(response.content, default_options=down)[
            "eo_finds"]["features"]

    def pixel(feature) -> tuple[int, int]:
        x, y = feature["geometry"]["coordinates"]
        return x // 16, y // 16

    tiles = _tiles_around(client, "eo_finds", (10, 11, 12, 13))
    full = {t: features(client, "/tiles/eo_finds/{}/{}/{}.pbf".format(*t)) for t in tiles}
    dense = max(full, key=lambda t: len(full[t]))
    limit = len(full[dense]) - 1
    assert limit > 10, "the demo has a tile with enough finds to thin"
    with TestClient(create_app(Settings(database_url=cli.url, tile_point_limit=limit))) as thin:
        thinned = features(thin, "/tiles/eo_finds/{}/{}/{}.pbf".format(*dense))
        everything = full[dense]
        assert len({pixel(f) for f in everything}) == len(thinned) < len(everything)
        assert sum(f["properties"]["represents"] for f in thinned) == len(everything)
        by_pixel: dict[tuple[int, int], list[dict]] = {}
        for f in everything:
            by_pixel.setdefault(pixel(f), []).append(f)
        for f in thinned:
            square = by_pixel[pixel(f)]
            first = min(square, key=lambda g: g["id"])
            assert f["id"] == first["id"] and f["properties"]["represents"] == len(square)
            assert {k: v for k, v in f["properties"].items() if k != "represents"} == \
                first["properties"]
        sparse = min((t for t in tiles if 0 < len(full[t]) <= limit), key=lambda t: len(full[t]))
        kept = features(thin, "/tiles/eo_finds/{}/{}/{}.pbf".format(*sparse))
        assert kept == full[sparse]  # at or under the limit: every feature, no `represents`
        fields = thin.get("/tiles/eo_finds.json").json()["vector_layers"][0]["fields"]
        assert fields["represents"] == "Number"


def test_the_python_encoder_writes_rings_lines_and_points_a_decoder_reads_back():
    """The GeoPackage encoder (whole-tile numpy): exterior rings and holes in either input
    orientation, multipolygons, lines, repeated points and a ring without area, read back by
    mapbox-vector-tile as the same shapes."""
    from demine.services.tiles.mvt.encode import encode_layer

    square = shapely.Polygon([(100, 100), (100, 900), (900, 900), (900, 100)],
                             [[(300, 300), (600, 300), (600, 600), (300, 600)]])
    shapes = [
        square, square.reverse(),  # either orientation in, the spec's winding out
        shapely.MultiPolygon([shapely.box(1000, 1000, 1200, 1200),
                              shapely.box(1500, 1000, 1700, 1300)]),
        shapely.LineString([(10, 10), (10, 10), (400, 50), (800, 20)]),  # a repeated point
        shapely.Point(2000, 3000),
        shapely.Polygon([(5, 5), (5, 9), (5, 7), (5, 5)]),  # no area: not drawn
    ]
    tile = encode_layer("shapes", list(range(1, 7)), [{"id": i} for i in range(1, 7)], shapes)
    decoded = mapbox_vector_tile.decode(tile, default_options={"y_coord_down": True})
    features = {f["id"]: shape(f["geometry"]) for f in decoded["shapes"]["features"]}
    assert set(features) == {1, 2, 3, 4, 5}
    for i in (1, 2):
        assert features[i].equals(square) and len(features[i].interiors) == 1
    for i in (1, 2, 3):  # spec 4.3.4.4: exteriors positive (surveyor's formula), holes not
        signs = [area > 0 for area in _ring_areas(tile, i)]
        assert signs == ([True, False] if i < 3 else [True, True]), (i, signs)
    assert features[3].equals(shapes[2]) and features[3].geom_type == "MultiPolygon"
    assert features[4].equals(shapes[3]) and len(features[4].coords) == 3
    assert features[5].equals(shapes[4])


def _ring_areas(tile: bytes, feature_id: int) -> list[float]:
    """The signed area of each ring of a feature, read from its raw command integers."""
    from mapbox_vector_tile.Mapbox import vector_tile_pb2

    message = vector_tile_pb2.tile()
    message.ParseFromString(tile)
    [feature] = [f for f in message.layers[0].features if f.id == feature_id]
    commands, i, x, y, rings = list(feature.geometry), 0, 0, 0, []
    while i < len(commands):
        command, count = commands[i] & 7, commands[i] >> 3
        i += 1
        if command == 7:
            continue
        if command == 1:
            rings.append([])
        for _ in range(count):
            dx, dy = commands[i], commands[i + 1]
            x += (dx >> 1) ^ -(dx & 1)
            y += (dy >> 1) ^ -(dy & 1)
            rings[-1].append((x, y))
            i += 2
    return [sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(r, r[1:] + r[:1], strict=True))
            for r in rings]


def test_users_of_one_organisation_share_tiles_unless_a_record_names_them(client, cli):
    """Two users of one organisation whom no record names see the same rows, whatever their
    role: the second is served the tile the first made (same bytes and ETag). A user named on
    a confidential record has tiles of their own, holding it; the others' do not."""
    from sqlalchemy import select

    from demine.domain.actors import Actor
    from demine.services.access.accounts import add_user
    from demine.services.access.sharing import grant_record
    from demine.storage.database import Database
    from demine.storage.tables import hazards, organisations, users

    database = Database(Settings(database_url=cli.url))
    with database.transaction() as uow:
        org_id, org = uow.conn.execute(select(organisations.c.id, organisations.c.code).join(
            users, users.c.organisation_id == organisations.c.id).where(
            users.c.email == "operator@demo.demine.org")).one()
        secret = uow.conn.execute(select(hazards.c.id, hazards.c.geom).where(
            hazards.c.organisation_id == org_id, hazards.c.sensitivity == "confidential")
            .limit(1)).first()
        assert secret, "the demo holds confidential hazards of the operator's organisation"
        for name, role in (("named", "operator"), ("first", "operator"),
                           ("second", "reporter")):
            add_user(uow, actor=Actor.system("test"), email=f"{name}@tiles.test",
                     organisation=org, role=role, password="tiles-test-password",
                     name=name)
        grant_record(uow, actor=Actor.system("test"), layer="hazards", record_id=secret.id,
                     user_email="named@tiles.test")
    database.dispose()
    signed_in = {}
    for name in ("named", "first", "second"):
        response = client.post("/api/v1/auth/token", json={
            "email": f"{name}@tiles.test", "password": "tiles-test-password"})
        assert response.status_code == 200, response.text
        signed_in[name] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    admin = _headers(client, "admin")
    geometry = shape(client.get(f"/api/v1/hazards/{secret.id}", headers=admin).json()[
        "geometry"]).representative_point()
    path = "/tiles/hazards/{}/{}/{}.pbf".format(12, *tile_of(geometry.x, geometry.y, 12))
    cache = client.app.state.tile_cache

    def ids(content: bytes) -> set[int]:
        return {f["id"] for f in mapbox_vector_tile.decode(content).get("hazards", {}).get(
            "features", [])}

    first = _fetch(client, signed_in["first"], path)
    hits = cache.hits
    second = _fetch(client, signed_in["second"], path)
    assert cache.hits == hits + 1 and second == first
    named = _fetch(client, signed_in["named"], path)
    assert secret.id in ids(named[0]) and secret.id not in ids(first[0])
    assert named[1] != first[1]


def test_a_tile_cache_folder_outlives_the_server_and_sees_what_changed_meanwhile(client, cli,
                                                                                tmp_path):
    """With DEMINE_TILE_CACHE_DIR, tiles outlive the server: the next one serves them from
    the file, except those a change made while it was down touched. A file whose head the
    store's audit chain does not hold (another store, a restored backup) serves nothing."""
    import sqlite3

    admin = _headers(client, "admin")
    items = client.get("/api/v1/hazards", headers=admin, params={"limit": 1000}).json()["items"]
    hazard = items[0]
    far = next(h for h in items if not shape(h["geometry"]).buffer(0.05).intersects(
        shape(hazard["geometry"])))
    near_path = "/tiles/hazards/{}/{}/{}.pbf".format(12, *tile_of(*_centre(hazard), 12))
    far_path = "/tiles/hazards/{}/{}/{}.pbf".format(14, *tile_of(*_centre(far), 14))
    settings = Settings(database_url=cli.url, tile_cache_dir=tmp_path)
    with TestClient(create_app(settings)) as first:
        made = {path: _fetch(first, admin, path) for path in (near_path, far_path)}
    location = f"/api/v1/hazards/{hazard['id']}"
    tag = client.get(location, headers=admin).headers["ETag"]
    assert client.patch(location, json={"name": "Renamed while the server was down"}, headers={
        **admin, "Content-Type": "application/merge-patch+json", "If-Match": tag}
    ).status_code == 200
    with TestClient(create_app(settings)) as second:
        cache = second.app.state.tile_cache
        assert _fetch(second, admin, far_path) == made[far_path] and cache.hits == 1
        near = _fetch(second, admin, near_path)  # dropped from the file, made again
        names = {f["id"]: f["properties"]["name"] for f in mapbox_vector_tile.decode(
            near[0])["hazards"]["features"]}
        assert names[hazard["id"]] == "Renamed while the server was down"
        assert near[1] != made[near_path][1]
    [file] = tmp_path.glob("tiles-*.sqlite")
    with sqlite3.connect(file) as conn:
        conn.execute("UPDATE made SET head_hash = 'not this store'")
    quiet = Settings(database_url=cli.url, tile_cache_dir=tmp_path, tile_reseed_max=0)
    with TestClient(create_app(quiet)) as third:  # (no remaking in the background to race)
        assert _fetch(third, admin, far_path) == made[far_path]
        assert third.app.state.tile_cache.hits == 0  # made again, not taken from the file


def test_seeded_tiles_are_served_without_being_made(client, cli, tmp_path):
    """`demine tiles seed` makes the tiles of an area for a user's scope into the folder the
    server keeps tiles in: the server's first asks for them are hits, byte for byte what a
    server without a cache makes. Bad options are refused, naming the field."""
    result = cli("tiles", "seed", "--cache-dir", str(tmp_path), "--zooms", "8-10",
                 "--layer", "hazards", "--email", "operator@demo.demine.org", "--json")
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.stdout)
    assert report["as"] == "operator@demo.demine.org" and report["with_data"] > 0
    operator = _headers(client, "operator")
    paths = [f"/tiles/hazards/{z}/{x}/{y}.pbf" for z, x, y in
             _tiles_around(client, "hazards", (8, 9, 10), role="operator")]
    settings = Settings(database_url=cli.url, tile_cache_dir=tmp_path)
    with TestClient(create_app(settings)) as seeded:
        served = [_fetch(seeded, operator, path) for path in paths]
        assert seeded.app.state.tile_cache.hits == len(paths)
    assert served == [_fetch(client, operator, path) for path in paths]
    for args, field in ((["--zooms", "8-12"], "cache_dir"),
                        (["--cache-dir", str(tmp_path), "--zooms", "12-8"], "zooms"),
                        (["--cache-dir", str(tmp_path), "--email", "nobody@x.test"], "email"),
                        (["--cache-dir", str(tmp_path), "--layer", "nothing"], "nothing")):
        refused = cli("tiles", "seed", *args)
        assert refused.exit_code != 0 and field in refused.output, (args, refused.output)
