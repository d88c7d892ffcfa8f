"""`python -m benchmarks.tiles`: vector tiles under load — p50/p95 latency and tiles/s per zoom.

For each store (the GeoPackage and/or PostGIS), starts `demine serve --workers 2` on loopback
and signs in a user of the national authority with the authority role, so the need-to-know
filter runs in every tile's SQL (`--role admin`: the predicate is `true`). Tiles are random
XYZ tiles inside the bounds of the data (TileJSON of hazards), the same tiles for every store
(one seed). Per zoom, client threads ask for each tile's hazards and, from the zoom the server
serves them (TileJSON minzoom), its eo_finds: first each tile once (cold: the server makes
every tile), then, after a short warm-up thrown away, again and again for the timed window
(warm: the server's tile cache answers, as it does for maps panning over the same area).
Targets: p95 ≤ 50 ms and ≥ 200 tiles/s, shown for both. A 204 (empty tile) counts as a tile
served; non-empty ones are counted apart. The floor is the same load on a tile the server
answers without SQL (eo_finds below its minzoom): what routing and sign-in alone allow."""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
from pathlib import Path

import httpx

from benchmarks.serving import (
    demine_server,
    finish,
    machine_load,
    run_load,
    run_once,
    store_args,
    stores_unusable,
    summary,
    token,
)

LAYERS = ("hazards", "eo_finds")
TARGET_P95_MS, TARGET_TILES_PER_S = 50.0, 200.0


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point."""
    n = 2**z
    lat = max(min(lat, 85.0511), -85.0511)
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def pick_tiles(bounds, zooms, per_zoom: int, seed: int) -> dict[int, list[tuple[int, int]]]:
    """``per_zoom`` random tiles per zoom inside ``bounds`` (all of them when fewer exist)."""
    rng = random.Random(seed)
    west, south, east, north = bounds
    picked = {}
    for z in zooms:
        (x0, y0), (x1, y1) = tile_of(west, north, z), tile_of(east, south, z)
        every = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        picked[z] = every if len(every) <= per_zoom else rng.sample(every, per_zoom)
    return picked


def _requests(z: int, tiles, minzoom: dict[str, int]) -> list[tuple[str, str]]:
    return [(f"{layer}/{z}", f"/tiles/{layer}/{z}/{x}/{y}.pbf")
            for x, y in tiles for layer in LAYERS if z >= minzoom[layer]]


def _figures(samples, elapsed) -> dict:
    out = summary(samples, elapsed, ok=(200, 204), counted="non_empty")
    out["tiles_per_s"] = out.pop("requests_per_s", 0.0)
    if samples:
        full = sorted(s.seconds for s in samples if s.status == 200)
        out["non_empty"] = len(full)
        if full:
            out["non_empty_p95_ms"] = round(1000 * full[int(0.95 * (len(full) - 1))], 1)
    return out


def measure(store: list[str], choose, *, seconds: float, warmup: float, clients: int,
            workers: int, role: str) -> dict:
    """Serve ``store`` and time each zoom's tiles (``choose(bounds of the data)`` picks them);
    figures per zoom, per layer and overall, and the floor: the same load on a tile below
    eo_finds' minzoom (routing, sign-in and an early empty answer; no SQL, no encoding)."""
    headers = {"Authorization": f"Bearer {token(store, role)}"}
    with demine_server(store, workers) as url:
        tiles = choose(httpx.get(f"{url}/tiles/hazards.json", headers=headers,
                                 timeout=60).json()["bounds"])
        minzoom = {layer: httpx.get(f"{url}/tiles/{layer}.json", headers=headers,
                                    timeout=60).json()["minzoom"] for layer in LAYERS}
        floor = [("floor", f"/tiles/eo_finds/{minzoom['eo_finds'] - 1}/0/0.pbf")]
        run_load(url, floor, seconds=warmup, clients=clients, headers=headers)
        floor_figures = _figures(*run_load(url, floor, seconds=seconds, clients=clients,
                                           headers=headers))
        zooms, pooled, total, cold_pooled, cold_total = {}, [], 0.0, [], 0.0
        for z, picked in tiles.items():
            requests = _requests(z, picked, minzoom)
            cold, cold_elapsed = run_once(url, requests, clients=clients, headers=headers)
            run_load(url, requests, seconds=warmup, clients=clients, headers=headers)
            samples, elapsed = run_load(url, requests, seconds=seconds, clients=clients,
                                        headers=headers)
            for s in (*samples, *cold):
                s.count = int(s.status == 200)
            zooms[z] = {**_figures(samples, elapsed), "tiles_asked": len(requests),
                        "tiles_with_data": _with_data(url, headers, requests),
                        "cold": _figures(cold, cold_elapsed),
                        "layers": {label.split("/")[0]: _figures(
                            [s for s in samples if s.label == label], elapsed)
                            for label in sorted({s.label for s in samples})}}
            pooled += samples
            total += elapsed
            cold_pooled += cold
            cold_total += cold_elapsed
    overall = _figures(pooled, total)
    overall["cold"] = _figures(cold_pooled, cold_total)
    return {"minzoom": minzoom, "floor": floor_figures, "zooms": zooms, "overall": overall}


def _with_data(url: str, headers: dict, requests) -> int:
    """How many of the distinct tiles asked for hold data (one request each, not timed)."""
    samples, _ = run_once(url, requests, clients=1, headers=headers)
    return sum(s.status == 200 for s in samples)


def _verdict(figures: dict) -> str:
    ok = (figures.get("p95_ms", math.inf) <= TARGET_P95_MS
          and figures.get("tiles_per_s", 0) >= TARGET_TILES_PER_S)
    return "PASS" if ok else "FAIL"


def _print(name: str, result: dict) -> None:
    floor = result["floor"]
    print(f"\n{name}  (eo_finds from z{result['minzoom']['eo_finds']}; floor, an empty tile "
          f"with no SQL: {floor['tiles_per_s']} tiles/s, p50 {floor['p50_ms']} ms, "
          f"p95 {floor['p95_ms']} ms)")
    print("cold: each tile asked once, made by the server (nothing cached yet); warm: the same "
          "tiles asked again and again for the timed window (the server's tile cache)")
    print(f"{'zoom':>6} {'cold/s':>7} {'p50':>6} {'p95':>6}  {'warm/s':>7} {'p50':>6} "
          f"{'p95':>6} {'p95>0':>6} {'served':>7} {'non-empty':>9} {'data/asked':>11}  "
          "warm layers p95 ms")
    rows = [(str(z), f) for z, f in result["zooms"].items()] + [("all", result["overall"])]
    for label, f in rows:
        layers = "  ".join(f"{k} {v['p95_ms']}" for k, v in f.get("layers", {}).items())
        data = f"{f['tiles_with_data']}/{f['tiles_asked']}" if "tiles_asked" in f else ""
        c = f["cold"]
        print(f"{label:>6} {c['tiles_per_s']:>7} {c['p50_ms']:>6} {c['p95_ms']:>6}  "
              f"{f['tiles_per_s']:>7} {f['p50_ms']:>6} {f['p95_ms']:>6} "
              f"{f.get('non_empty_p95_ms', '-'):>6} {f['requests']:>7} {f['non_empty']:>9} "
              f"{data:>11}  {layers}  cold {_verdict(c)} warm {_verdict(f)}")


def _zooms(text: str) -> list[int]:
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def main(argv: list[str] | None = None) -> int:
    """Command line; exit status 2 when a store is missing, 1 on errors or a missed target."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.tiles", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", type=Path, help="a demo GeoPackage (e.g. national scale)")
    p.add_argument("--database-url", help="a PostGIS store loaded with the same demo")
    p.add_argument("--zooms", default="8-14", help="zoom range, e.g. 8-14")
    p.add_argument("--per-zoom", type=int, default=40, help="random tiles per zoom")
    p.add_argument("--seconds", type=float, default=4.0, help="timed window per zoom")
    p.add_argument("--warmup", type=float, default=1.0, help="untimed seconds per zoom")
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--role", choices=("authority", "admin"), default="authority",
                   help="whose token: an authority user goes through the need-to-know "
                        "filter, an admin's predicate is true")
    p.add_argument("--json", type=Path, help="write every figure here")
    a = p.parse_args(argv)
    unusable = stores_unusable(p, a)
    if unusable is not None:
        return unusable
    stores = {}
    if a.db:
        stores["geopackage"] = store_args(db=a.db)
    if a.database_url:
        stores["postgis"] = store_args(url=a.database_url)
    figures = {"load_start": machine_load(), "cpus": os.cpu_count(), "clients": a.clients,
               "workers": a.workers, "seconds_per_zoom": a.seconds, "seed": a.seed,
               "role": a.role, "stores": {}}
    chosen, status = {}, 0

    def choose(bounds):  # one tile set for every store: inside the bounds the first one gave
        if not chosen:
            chosen.update(pick_tiles(bounds, _zooms(a.zooms), a.per_zoom, a.seed))
        return chosen

    for name, store in stores.items():
        try:
            result = measure(store, choose, seconds=a.seconds, warmup=a.warmup,
                             clients=a.clients, workers=a.workers, role=a.role)
            result["load_after"] = machine_load()
        except Exception as exc:  # report and go on with the other store
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            figures["stores"][name] = {"error": str(exc)}
            status = 1
            continue
        figures["stores"][name] = result
        _print(f"{name}: {' '.join(store)}", result)
        print(f"load average after: {result['load_after']}")
        status |= _verdict(result["overall"]) == "FAIL" or result["overall"]["errors"] > 0
    finish(figures, a.json)
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
