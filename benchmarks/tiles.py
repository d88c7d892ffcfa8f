"""`python -m benchmarks.tiles`: vector tiles under load — p50/p95 latency and tiles/s per zoom.

For each store (the GeoPackage and/or PostGIS), starts `demine serve --workers 2` on loopback
and signs in a user of the national authority with the authority role, so the need-to-know
filter runs in every tile's SQL (`--role admin`: the predicate is `true`). Tiles are random
XYZ tiles inside the bounds of the data (TileJSON of hazards), the same tiles for every store
(one seed). Per zoom, client threads ask for each tile's hazards and, from the zoom the server
serves them (TileJSON minzoom), its eo_finds: first each tile once (cold: the server makes
every tile), then, after a short warm-up thrown away, again and again for the timed window
(warm: the server's tile cache answers, as it does for maps panning over the same area).
Last, every tile of every zoom is asked again and again while an administrator renames a
hazard in the sampled area every ten seconds through the API (while editing: each rename
drops the tiles it touched, which the server remakes in the background or when asked).
Targets: p95 ≤ 50 ms and ≥ 200 tiles/s, shown for both. A 204 (empty tile) counts as a tile
served; non-empty ones are counted apart. The floor is the same load on a tile the server
answers without SQL (eo_finds below its minzoom): what routing and sign-in alone allow."""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.common import demine_command
from benchmarks.serving import (
    bench_email,
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
from demine.services.tiles.grid import covering, tile_bounds

LAYERS = ("hazards", "eo_finds")
TARGET_P95_MS, TARGET_TILES_PER_S = 50.0, 200.0


def pick_tiles(bounds, zooms, per_zoom: int, seed: int) -> dict[int, list[tuple[int, int]]]:
    """``per_zoom`` random tiles per zoom inside ``bounds`` (all of them when fewer exist)."""
    rng = random.Random(seed)
    picked = {}
    for z in zooms:
        every = covering(bounds, z)
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
            workers: int, role: str, edit_seconds: float = 30.0, edit_every: float = 10.0,
            seed_zooms: str | None = None) -> dict:
    """Serve ``store`` and time each zoom's tiles (``choose(bounds of the data)`` picks them);
    figures per zoom, per layer and overall, and the floor: the same load on a tile below
    eo_finds' minzoom (routing, sign-in and an early empty answer; no SQL, no encoding)."""
    headers = {"Authorization": f"Bearer {token(store, role)}"}
    env, seeded = {}, None
    if seed_zooms:  # tiles made ahead into a fresh cache folder, as `demine tiles seed` does
        folder = Path(tempfile.mkdtemp(prefix="demine-bench-tiles-"))
        env["DEMINE_TILE_CACHE_DIR"] = str(folder)
        started = time.perf_counter()
        done = subprocess.run([*demine_command(), "tiles", "seed", *store, "--cache-dir",
                               str(folder), "--zooms", seed_zooms, "--email", bench_email(role),
                               *(a for layer in LAYERS for a in ("--layer", layer)), "--json"],
                              capture_output=True, text=True, timeout=3600, check=True)
        seeded = {"zooms": seed_zooms, "seconds": round(time.perf_counter() - started, 1),
                  **json.loads(done.stdout)[0]}
    with demine_server(store, workers, env) as url:
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
        everything = [r for z, picked in tiles.items() for r in _requests(z, picked, minzoom)]
        edited = _while_editing(url, store, everything, tiles, seconds=edit_seconds,
                                every=edit_every, clients=clients, headers=headers)
    overall = _figures(pooled, total)
    overall["cold"] = _figures(cold_pooled, cold_total)
    if seed_zooms:
        shutil.rmtree(folder, ignore_errors=True)
    return {"minzoom": minzoom, "floor": floor_figures, "zooms": zooms, "overall": overall,
            "while_editing": edited, "seeded": seeded}


def _while_editing(url: str, store: list[str], requests, tiles, *, seconds: float,
                   every: float, clients: int, headers: dict) -> dict:
    """Every tile of every zoom asked again and again for ``seconds`` while an administrator
    renames a hazard in the sampled area every ``every`` seconds through the API (the names
    are put back afterwards, untimed). Each rename drops the tiles it touched, at each zoom;
    the server remakes them in the background or when asked, whichever comes first."""
    editor = {"Authorization": f"Bearer {token(store, 'admin', write=True)}"}
    z = 12 if 12 in tiles else max(tiles)
    targets = []
    for x, y in tiles[z]:
        west, south, east, north = tile_bounds(z, x, y)
        page = httpx.get(f"{url}/api/v1/hazards", headers=editor, timeout=60, params={
            "bbox": f"{west},{south},{east},{north}", "limit": 2}).json()
        targets += [(item["id"], item["name"]) for item in page["items"]]
    if not targets:
        return {"edits": 0}
    made: list[tuple[int, str]] = []

    def rename(record_id: int, name: str) -> None:
        location = f"{url}/api/v1/hazards/{record_id}"
        tag = httpx.get(location, headers=editor, timeout=60).headers["ETag"]
        response = httpx.patch(location, json={"name": name}, timeout=60, headers={
            **editor, "Content-Type": "application/merge-patch+json", "If-Match": tag})
        response.raise_for_status()

    def edit(window: float) -> None:
        ends = time.monotonic() + window
        while time.monotonic() < ends:
            record_id, name = targets[len(made) % len(targets)]
            rename(record_id, f"{name} (edited)")
            made.append((record_id, name))
            time.sleep(max(0.0, min(every, ends - time.monotonic())))

    samples, elapsed = run_load(url, requests, seconds=seconds, clients=clients,
                                headers=headers, meanwhile=edit)
    for record_id, name in dict(made).items():
        rename(record_id, name)
    for sample in samples:
        sample.count = int(sample.status == 200)
    figures = _figures(samples, elapsed)
    figures["edits"] = len(made)
    figures["zooms"] = {label: _figures([s for s in samples if s.label.endswith(f"/{label}")],
                                        elapsed) for label in sorted(tiles)}
    return figures


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
    if result.get("seeded"):
        seeded = result["seeded"]
        print(f"\n(seeded first: `demine tiles seed --zooms {seeded['zooms']}` made "
              f"{seeded['tiles']} tiles, {seeded['with_data']} with data, "
              f"{seeded['bytes'] / 2**20:.1f} MB, in {seeded['seconds']} s)")
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
    edited = result["while_editing"]
    if edited.get("edits"):
        zooms = "  ".join(f"z{z} p95 {f.get('p95_ms', '-')}" for z, f in edited["zooms"].items())
        print(f"while editing ({edited['edits']} renames of hazards in the sampled area, every "
              f"tile of every zoom asked): {edited['tiles_per_s']} tiles/s, p50 "
              f"{edited['p50_ms']} ms, p95 {edited['p95_ms']} ms, errors {edited['errors']}: "
              f"{_verdict(edited)}\n  {zooms}")


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
    p.add_argument("--edit-seconds", type=float, default=30.0,
                   help="window of the last pass: every tile asked while hazards are renamed")
    p.add_argument("--edit-every", type=float, default=10.0,
                   help="seconds between renames (10: 360 edits an hour in one area, more "
                        "than a national programme makes; 2 is a stress test)")
    p.add_argument("--seed-zooms", help="first `demine tiles seed` these zooms (e.g. 8-12) "
                   "into a fresh tile cache folder the server then uses: the cold pass asks "
                   "a seeded server")
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
                             clients=a.clients, workers=a.workers, role=a.role,
                             edit_seconds=a.edit_seconds, edit_every=a.edit_every,
                             seed_zooms=a.seed_zooms)
            result["load_after"] = machine_load()
        except Exception as exc:  # report and go on with the other store
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            figures["stores"][name] = {"error": str(exc)}
            status = 1
            continue
        figures["stores"][name] = result
        _print(f"{name}: {' '.join(store)}", result)
        print(f"load average after: {result['load_after']}")
        edited = result["while_editing"]
        status |= _verdict(result["overall"]) == "FAIL" or result["overall"]["errors"] > 0
        status |= bool(edited.get("edits")) and (_verdict(edited) == "FAIL" or edited["errors"])
    finish(figures, a.json)
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
