"""`python -m benchmarks.ogc_peer`: OGC API - Features items by bbox, demine vs pygeoapi.

Both servers run on loopback with the same number of worker processes and serve the same
data: `demine serve --workers 2` and pygeoapi under gunicorn (`-w 2`, its Flask app). Two
pairings: demine on PostGIS vs pygeoapi's PostgreSQL provider on the same tables, and demine
on the GeoPackage vs pygeoapi's OGR provider on the same file. Client threads ask each server
in turn, for a bounded time, for the same pages (`bbox=…&limit=1000`, random boxes of the
data from one seed). demine gets an admin's token: its permission predicate is then `true`
and it serves every record, as pygeoapi does. Before timing, a few boxes are asked of both
with the whole result in one page and the feature ids compared. demine is then timed once
more with the token of an authority user, its need-to-know filter at work (context only).

pygeoapi is installed in its own virtualenv (benchmarks/.peer-venv, made on first use, never
in the project's), pinned below. Its OGR provider needs GDAL's Python bindings: the venv is
made from /usr/bin/python3 with its site packages when that has them (Debian: apt-get install
python3-gdal); otherwise the GeoPackage pairing is skipped and says why.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx
import shapely
import yaml
from shapely.geometry import shape
from sqlalchemy.engine import make_url

from benchmarks.serving import (
    demine_server,
    features_returned,
    finish,
    free_port,
    machine_load,
    run_load,
    server,
    store_args,
    stores_unusable,
    summary,
    token,
)

PEER_VENV = Path(__file__).resolve().with_name(".peer-venv")
PEER_REQUIREMENTS = ["pygeoapi==0.21.0",  # the newest release for Python 3.11 (0.22+ need 3.12)
                     "gunicorn==27.0.1", "psycopg2-binary==2.9.13", "geoalchemy2==0.20.0",
                     "SQLAlchemy==2.1.9"]
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where python3-gdal puts the GDAL bindings
LAYERS = ("hazards", "eo_finds")
PAGE = 1000
GOAL = 3.0  # demine's throughput / pygeoapi's


def _peer_python() -> Path:
    return PEER_VENV / "bin" / "python"


def ensure_peer() -> dict:
    """Make the pygeoapi venv when missing; what it has (pygeoapi version, GDAL or why not)."""
    if not _peer_python().exists():
        gdal = subprocess.run([SYSTEM_PYTHON, "-c", "import osgeo.ogr"], capture_output=True,
                              timeout=60, check=False).returncode == 0 if Path(
                                  SYSTEM_PYTHON).exists() else False
        base = [SYSTEM_PYTHON, "-m", "venv", "--system-site-packages"] if gdal else [
            sys.executable, "-m", "venv"]
        print(f"making {PEER_VENV} ({' '.join(base)}) and installing {PEER_REQUIREMENTS}")
        subprocess.run([*base, str(PEER_VENV)], check=True, timeout=300)
    subprocess.run([str(_peer_python()), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS],
                   check=True, timeout=900)
    probe = subprocess.run([str(_peer_python()), "-c", "import pygeoapi; print(pygeoapi."
                            "__version__); from osgeo import gdal; print(gdal.__version__)"],
                           capture_output=True, text=True, timeout=120, check=False)
    lines = probe.stdout.split()
    return {"pygeoapi": lines[0] if lines else None,
            "gdal": lines[1] if len(lines) > 1 else None,
            "gdal_missing": None if len(lines) > 1 else (
                f"no GDAL Python bindings in {PEER_VENV} ({probe.stderr.strip()[-200:]}); "
                f"install python3-gdal (apt-get install -y python3-gdal), delete {PEER_VENV} "
                "and run again")}


def _provider(pairing: str, layer: str, store: list[str]) -> dict:
    """pygeoapi's provider block for a layer of the store demine serves."""
    if pairing == "postgis":
        u = make_url(store[1])
        return {"type": "feature", "name": "PostgreSQL", "table": layer, "id_field": "id",
                "geom_field": "geom", "data": {"host": u.host, "port": u.port or 5432,
                                               "dbname": u.database, "user": u.username,
                                               "password": u.password,
                                               "search_path": ["public"]}}
    return {"type": "feature", "name": "OGR", "id_field": "id", "layer": layer,
            "data": {"source_type": "GPKG", "source": str(Path(store[1]).resolve())}}


def peer_config(pairing: str, store: list[str], port: int, extent: list[float]) -> dict:
    """A minimal pygeoapi configuration serving hazards and eo_finds from ``store``."""
    url = f"http://127.0.0.1:{port}"
    return {
        "server": {"bind": {"host": "127.0.0.1", "port": port}, "url": url,
                   "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8",
                   "language": "en-US", "pretty_print": False,
                   "limits": {"default_items": 10, "max_items": 10_000},
                   "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                           "attribution": "OpenStreetMap"}},
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "bench", "description": "demine benchmark peer",
                               "keywords": ["bench"], "keywords_type": "theme",
                               "terms_of_service": url, "url": url},
            "license": {"name": "CC-BY 4.0",
                        "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "bench", "url": url}, "contact": {"name": "bench"}},
        "resources": {layer: {
            "type": "collection", "title": layer, "description": layer, "keywords": [layer],
            "extents": {"spatial": {"bbox": extent,
                                    "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "links": [], "providers": [_provider(pairing, layer, store)]}
            for layer in LAYERS},
    }


def peer_server(pairing: str, store: list[str], workers: int, extent, folder: Path, stack):
    """Start pygeoapi (gunicorn, ``workers`` processes) for the store; its base URL."""
    port = free_port()
    config, openapi = folder / f"pygeoapi-{pairing}.yml", folder / f"openapi-{pairing}.yml"
    config.write_text(yaml.safe_dump(peer_config(pairing, store, port, extent)))
    bin_dir = PEER_VENV / "bin"
    subprocess.run([str(bin_dir / "pygeoapi"), "openapi", "generate", str(config),
                    "--output-file", str(openapi)], check=True, timeout=300,
                   capture_output=True)
    env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    url = f"http://127.0.0.1:{port}"
    stack.enter_context(server([str(bin_dir / "gunicorn"), "-w", str(workers), "-b",
                                f"127.0.0.1:{port}", "--timeout", "120",
                                "pygeoapi.flask_app:APP"], f"{url}/collections?f=json",
                               env=env, log=folder / f"gunicorn-{pairing}.log"))
    return url


def boxes(extent, side: float, n: int, seed: int) -> list[tuple[float, float, float, float]]:
    """``n`` random boxes of ``side`` degrees inside ``extent``."""
    rng = random.Random(seed)
    x0, y0, x1, y1 = extent
    out = []
    for _ in range(n):
        x, y = rng.uniform(x0, x1 - side), rng.uniform(y0, y1 - side)
        out.append((round(x, 6), round(y, 6), round(x + side, 6), round(y + side, 6)))
    return out


def _path(server_name: str, layer: str, bbox, limit: int) -> str:
    box = ",".join(map(str, bbox))
    if server_name == "demine":
        return f"/ogc/collections/{layer}/items?bbox={box}&limit={limit}"
    return f"/collections/{layer}/items?bbox={box}&limit={limit}&f=json"


def compare(urls: dict, headers: dict, layer: str, checked) -> dict:
    """Ask both servers for whole results (one page) and compare the feature ids. Where
    demine returns more, count those whose geometry misses the box (envelope only)."""
    out = {"boxes": len(checked), "same_ids": 0, "demine_features": 0, "peer_features": 0,
           "only_demine": 0, "only_demine_envelope_only": 0, "only_peer": 0}
    for bbox in checked:
        pages = {}
        for name, url in urls.items():
            r = httpx.get(url + _path(name, layer, bbox, 10_000), timeout=300,
                          headers=headers if name == "demine" else None)
            r.raise_for_status()
            pages[name] = {str(f["id"]): f for f in r.json()["features"]}
        mine, peer = pages["demine"], pages["pygeoapi"]
        extra = set(mine) - set(peer)
        out["same_ids"] += mine.keys() == peer.keys()
        out["demine_features"] += len(mine)
        out["peer_features"] += len(peer)
        out["only_demine"] += len(extra)
        out["only_peer"] += len(set(peer) - set(mine))
        out["only_demine_envelope_only"] += sum(
            not shape(mine[i]["geometry"]).intersects(shapely.box(*bbox)) for i in extra)
    return out


def run_pairing(pairing: str, store: list[str], a, folder: Path) -> dict:
    """Both servers up; compare, then time demine and pygeoapi back to back per layer."""
    auth = {role: {"Authorization": f"Bearer {token(store, role)}"}
            for role in ("admin", "authority")}
    headers = auth["admin"]  # sees every record, as pygeoapi serves them
    with ExitStack() as stack:
        mine = stack.enter_context(demine_server(store, a.workers))
        extent = httpx.get(f"{mine}/ogc/collections/hazards", headers=headers,
                           timeout=60).json()["extent"]["spatial"]["bbox"][0]
        urls = {"demine": mine,
                "pygeoapi": peer_server(pairing, store, a.workers, extent, folder, stack)}
        result = {"extent": extent, "layers": {}}
        for i, layer in enumerate(LAYERS):
            side = a.box_hazards if layer == "hazards" else a.box_eo_finds
            picked = boxes(extent, side, a.boxes, a.seed)
            # Checked on boxes a third as wide (same corners), so one page holds them whole.
            checked = [(x, y, x + side / 3, y + side / 3) for x, y, _, _ in picked[:a.check]]
            figures = {"box_deg": side, "check": compare(urls, headers, layer, checked)}
            # Alternate who goes first, so that drift hits both alike; then demine again as
            # an authority user (its need-to-know filter at work), for context only.
            order = ("demine", "pygeoapi") if i % 2 == 0 else ("pygeoapi", "demine")
            for run in (*order, "demine_authority"):
                name = run.split("_")[0]
                requests = [(layer, _path(name, layer, b, PAGE)) for b in picked]
                sent = {"demine": headers, "demine_authority": auth["authority"]}.get(run)
                run_load(urls[name], requests[:a.clients], seconds=a.warmup,
                         clients=a.clients, headers=sent, count=features_returned)
                samples, elapsed = run_load(urls[name], requests, seconds=a.seconds,
                                            clients=a.clients, headers=sent,
                                            count=features_returned)
                figures[run] = {**summary(samples, elapsed), "load": machine_load()}
            figures["ratio"] = {k: round(figures["demine"][k] / figures["pygeoapi"][k], 2)
                                if figures["pygeoapi"].get(k) else None
                                for k in ("requests_per_s", "features_per_s")}
            result["layers"][layer] = figures
    return result


def _print(pairing: str, result: dict) -> None:
    print(f"\n{pairing}: {result['peer']}")
    print(f"{'layer':<9} {'server':<16} {'req/s':>7} {'feat/s':>9} {'feat/page':>9} "
          f"{'p50 ms':>8} {'p95 ms':>8} {'kB/page':>8} {'errors':>6}  load")
    for layer, f in result["layers"].items():
        for name in ("demine", "pygeoapi", "demine_authority"):
            s = f[name]
            print(f"{layer:<9} {name:<16} {s['requests_per_s']:>7} {s['features_per_s']:>9} "
                  f"{s['mean_features']:>9} {s['p50_ms']:>8} {s['p95_ms']:>8} "
                  f"{s['mean_kb']:>8} {s['errors']:>6}  {s['load']}")
        ratio = f["ratio"]["requests_per_s"]
        verdict = "PASS" if ratio and ratio >= GOAL else "FAIL"
        c = f["check"]
        print(f"{'':<9} demine/pygeoapi: {ratio}x req/s, {f['ratio']['features_per_s']}x "
              f"features/s (goal ≥ {GOAL}x) {verdict}")
        print(f"{'':<9} same result on {c['same_ids']}/{c['boxes']} boxes "
              f"({c['demine_features']} vs {c['peer_features']} features; only demine "
              f"{c['only_demine']}, of which envelope-only {c['only_demine_envelope_only']}; "
              f"only pygeoapi {c['only_peer']})")


def main(argv: list[str] | None = None) -> int:
    """Command line; exit status 2 when a store is missing, 1 on errors or differences."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.ogc_peer", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", type=Path, help="the national demo GeoPackage (OGR pairing)")
    p.add_argument("--database-url", help="PostGIS loaded with the same demo (SQL pairing)")
    p.add_argument("--seconds", type=float, default=20.0, help="timed window per server")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--boxes", type=int, default=40,
                   help="random boxes per layer, asked in turn (in order, cycling)")
    p.add_argument("--check", type=int, default=5, help="boxes whose ids are compared")
    p.add_argument("--box-hazards", type=float, default=0.5, help="box side, degrees")
    p.add_argument("--box-eo-finds", type=float, default=0.3, help="box side, degrees")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    unusable = stores_unusable(p, a)
    if unusable is not None:
        return unusable
    figures = {"load_start": machine_load(), "cpus": os.cpu_count(), "clients": a.clients,
               "workers": a.workers, "seconds": a.seconds, "page": PAGE, "pairings": {}}
    peer = figures["peer"] = ensure_peer()
    print(f"pygeoapi {peer['pygeoapi']}, GDAL {peer['gdal'] or '-'}; load {figures['load_start']}")
    pairings = {}
    if a.database_url:
        pairings["postgis"] = (store_args(url=a.database_url), "PostgreSQL provider")
    if a.db:
        pairings["geopackage"] = (store_args(db=a.db), "OGR provider (GPKG driver)")
    status = 0
    with tempfile.TemporaryDirectory(prefix="bench-ogc-") as tmp:
        for pairing, (store, provider) in pairings.items():
            if pairing == "geopackage" and peer["gdal_missing"]:
                print(f"\ngeopackage: SKIPPED: pygeoapi's OGR provider cannot run: "
                      f"{peer['gdal_missing']}")
                figures["pairings"][pairing] = {"skipped": peer["gdal_missing"]}
                continue
            try:
                result = run_pairing(pairing, store, a, Path(tmp))
            except Exception as exc:  # report and go on with the other pairing
                logs = "".join(f.read_text(errors="replace")[-1500:]
                               for f in Path(tmp).glob(f"gunicorn-{pairing}.log"))
                print(f"\n{pairing}: FAILED: {exc}\n{logs}", file=sys.stderr)
                figures["pairings"][pairing] = {"error": str(exc)}
                status = 1
                continue
            result["peer"] = f"pygeoapi {peer['pygeoapi']} {provider}, gunicorn -w {a.workers}"
            figures["pairings"][pairing] = result
            _print(pairing, result)
            for f in result["layers"].values():
                status |= bool(f["demine"]["errors"] or f["pygeoapi"]["errors"])
    finish(figures, a.json)
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
