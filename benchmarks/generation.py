"""Generating the demo store: seconds, peak memory, file size, rows per table."""

from __future__ import annotations

import resource
import sqlite3
from pathlib import Path
from typing import Any

from benchmarks.common import demine_command, run_json

_INTERNAL = ("gpkg_%", "rtree_%", "sqlite_%", "alembic_%")


def generate(path: Path, scale: str, seed: int, timeout: float) -> dict[str, Any]:
    """Build the demo with `demine demo … --no-serve --replace --json` in a subprocess."""
    args = [*demine_command(), "demo", "--db", str(path), "--scale", scale, "--seed", str(seed),
            "--no-serve", "--replace", "--json"]
    wall, out = run_json(args, timeout)
    return {
        "measured": True,
        "scale": scale,
        "seed": seed,
        "seconds": out["seconds"],  # as `demine demo` reports it: the build, no start-up
        "wall_s": round(wall, 2),  # the whole command, Python start-up included
        # the largest child so far: generation is the first command the benchmark runs
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "rows_loaded": out["rows"],
    }


def not_measured(scale: str) -> dict[str, Any]:
    """The generation entry when an existing file was reused (--keep)."""
    return {"measured": False, "scale": scale}


def file_facts(path: Path) -> dict[str, Any]:
    """Size of the GeoPackage (and any WAL left beside it) and the rows in each table."""
    wal = path.with_name(path.name + "-wal")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND "
            + " AND ".join("name NOT LIKE ?" for _ in _INTERNAL) + " ORDER BY name",
            _INTERNAL)]
        rows = {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    conn.close()
    return {
        "path": str(path),
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "wal_mb": round(wal.stat().st_size / 1e6, 1) if wal.exists() else 0.0,
        "rows": rows,
    }
