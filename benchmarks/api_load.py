"""`python -m benchmarks.api_load`: API list with bbox under load — p50/p95 latency and req/s.

Starts `demine serve --workers 2` on loopback over a store, signs in a benchmark user with a
read token, and runs client threads for a bounded time, each asking
`GET /api/v1/hazards?bbox=…&limit=100` for a random box of the region (and `eo_finds`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

DEMINE = [sys.executable, "-m", "demine"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(db: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([*DEMINE, *args, "--db", str(db)], input=stdin, text=True,
                          capture_output=True, timeout=300, check=False)
    return done.stdout


def _token(db: Path) -> str:
    """A read token of a benchmark viewer (created on first use)."""
    orgs = json.loads(_cli(db, "org", "list", "--json"))
    email = "bench@demine.invalid"
    _cli(db, "user", "add", "--email", email, "--org", orgs[0]["code"], "--role", "authority",
         "--password-stdin", stdin="benchmark-password\n")
    return json.loads(_cli(db, "token", "create", "--email", email, "--json"))["token"]


def _wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("server did not start")


def _worker(url, headers, layer, extent, box, stop, latencies, errors, seed) -> None:
    rng = random.Random(seed)
    x0, y0, x1, y1 = extent
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        while not stop.is_set():
            x, y = rng.uniform(x0, x1 - box), rng.uniform(y0, y1 - box)
            started = time.perf_counter()
            r = client.get(f"/api/v1/{layer}", params={
                "bbox": f"{x},{y},{x + box},{y + box}", "limit": 100})
            latencies.append(time.perf_counter() - started)
            if r.status_code != 200:
                errors.append(r.status_code)


def run(db: Path, *, seconds: float, clients: int, workers: int, box: float) -> dict:
    """Serve ``db`` and measure; returns the figures per layer."""
    token = _token(db)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([*DEMINE, "serve", "--db", str(db), "--port", str(port),
                               "--workers", str(workers)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env={**os.environ})
    try:
        _wait(url)
        headers = {"Authorization": f"Bearer {token}"}
        extent = tuple(httpx.get(f"{url}/ogc/collections/hazards", headers=headers)
                       .json()["extent"]["spatial"]["bbox"][0])
        return {layer: _measure(url, headers, layer, extent, box, seconds, clients)
                for layer in ("hazards", "eo_finds")}
    finally:
        server.terminate()
        server.wait(timeout=30)


def _measure(url, headers, layer, extent, box, seconds, clients) -> dict:
    stop, latencies, errors = threading.Event(), [], []
    threads = [threading.Thread(target=_worker, args=(url, headers, layer, extent, box, stop,
                                                      latencies, errors, i))
               for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"requests": len(ordered), "errors": len(errors),
            "p50_ms": round(1000 * statistics.median(ordered), 1),
            "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
            "requests_per_s": round(len(ordered) / elapsed, 1)}


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.api_load", description=__doc__)
    p.add_argument("--db", type=Path, required=True, help="a demo GeoPackage")
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--box", type=float, default=0.1, help="bbox side in degrees")
    a = p.parse_args(argv)
    figures = run(a.db, seconds=a.seconds, clients=a.clients, workers=a.workers, box=a.box)
    print(json.dumps({"db": str(a.db), "workers": a.workers, "clients": a.clients,
                      "seconds": a.seconds, "box_deg": a.box, **figures}, indent=2))


if __name__ == "__main__":
    main()
