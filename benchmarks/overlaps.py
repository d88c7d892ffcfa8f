"""`demine check` overlap/duplicate detection against the GeoPandas peer, on the same polygons.

Two workloads, each run ``repeat`` times alternating demine and the peer, medians reported:

* ``stored``: the hazards as the demo stores them, file read included on both sides (demine's
  own layer read, pyogrio for the peer). Demo hazards never meet, so there are few pairs.
* ``seeded``: the same polygons plus shifted copies of a sample of them (near-duplicates and
  partial overlaps), held in memory: file read excluded on both sides. Both sides get freshly
  decoded geometry objects each run, so neither reuses the other's prepared geometries.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from benchmarks import peer
from benchmarks.common import clock, demine_command, run_json
from demine.domain.actors import Actor
from demine.services.checks import OVERLAP_TOLERANCE_M2
from demine.services.checks.features import Features, load
from demine.services.checks.geometry import hazard_overlap_findings
from demine.settings import Settings, sqlite_url
from demine.storage.database import Database

DUPLICATE_SHIFT = 0.01  # of the polygon's width: nearly the same polygon
OVERLAP_SHIFT = 0.35  # of the polygon's width: a partial overlap


def demine_pairs(features: Features) -> peer.Pairs:
    """Demine's findings as {(code a, code b): "overlap" | "duplicate"}."""
    findings = hazard_overlap_findings(features, OVERLAP_TOLERANCE_M2)
    return {peer.pair_key(f.record, f.other): f.check for f in findings}


def read_hazards(database: Database) -> Features:
    """The hazards layer read as `demine check` reads it."""
    with database.read() as uow:
        return load(uow, Actor.system("bench"), "hazards")


def seed(features: Features, share: float = 0.02, least: int = 20) -> dict[str, np.ndarray]:
    """Codes, organisations and WKB of every hazard plus shifted copies of a sample."""
    n = len(features)
    count = min(n, max(least, int(n * share)))
    sample = np.arange(0, n, max(n // count, 1))[:count]
    bounds = shapely.bounds(features.geoms[sample])
    shift = np.where(np.arange(len(sample)) % 2 == 0, DUPLICATE_SHIFT, OVERLAP_SHIFT)
    offsets = np.column_stack([(bounds[:, 2] - bounds[:, 0]) * shift, np.zeros(len(sample))])
    coords, index = shapely.get_coordinates(features.geoms[sample], return_index=True)
    copies = shapely.set_coordinates(shapely.from_wkb(shapely.to_wkb(features.geoms[sample])),
                                     coords + offsets[index])
    suffix = np.where(shift == DUPLICATE_SHIFT, "~dup", "~ovl")
    return {
        "codes": np.concatenate([features.codes, features.codes[sample] + suffix]),
        "orgs": np.concatenate([features.orgs, features.orgs[sample]]),
        "wkb": np.concatenate([shapely.to_wkb(features.geoms), shapely.to_wkb(copies)]),
    }


def _features(seeded: dict[str, np.ndarray]) -> Features:
    """Demine's in-memory layer of the seeded polygons, decoded into fresh objects."""
    n = len(seeded["codes"])
    return Features(layer="hazards", ids=np.arange(1, n + 1), codes=seeded["codes"],
                    orgs=seeded["orgs"], geoms=shapely.from_wkb(seeded["wkb"]), columns={})


def run(path: Path, repeat: int) -> dict[str, Any]:
    """Both workloads; each with seconds per side, the ratio peer/demine and pair agreement."""
    database = Database(Settings(database_url=sqlite_url(path)))
    stored = _compare(repeat, lambda: clock(lambda: read_hazards(database)),
                      lambda: clock(lambda: peer.read(path)))
    stored["file_read"] = "included on both sides"
    given = seed(read_hazards(database))
    database.dispose()
    seeded = _compare(repeat, lambda: (0.0, 0.0, _features(given)),
                      lambda: (0.0, 0.0, peer.frame(given["codes"], given["wkb"])))
    seeded["file_read"] = "excluded on both sides (polygons decoded in memory, untimed)"
    seeded["seeded_copies"] = seeded["polygons"] - stored["polygons"]
    return {"tolerance_m2": OVERLAP_TOLERANCE_M2, "repeat": repeat,
            "stored": stored, "seeded": seeded}


def _compare(repeat: int, demine_input: Callable, peer_input: Callable) -> dict[str, Any]:
    """Alternate the two sides ``repeat`` times; medians of each, the ratio, the pair sets."""
    runs: dict[str, list[float]] = {}
    for r in range(max(repeat, 1)):
        sides = (_demine_run, _peer_run) if r % 2 == 0 else (_peer_run, _demine_run)
        for side in sides:
            found, figures = side(demine_input if side is _demine_run else peer_input)
            for name, value in figures.items():
                runs.setdefault(name, []).append(value)
            if side is _demine_run:
                mine = found
            else:
                theirs = found
    med = {name: statistics.median(values) for name, values in runs.items()}
    return {
        "polygons": int(med["polygons"]),
        "demine": {k: round(med["demine_" + k], 3) for k in _DEMINE_FIGURES},
        "geopandas": {k: round(med["peer_" + k], 3) for k in _PEER_FIGURES},
        "candidate_pairs": int(med["peer_candidate_pairs"]),
        "ratio": round(med["peer_total_s"] / med["demine_total_s"], 2),
        "ratio_cpu": round(med["peer_total_cpu_s"] / med["demine_total_cpu_s"], 2),
        "ratio_detect": round(med["peer_detect_s"] / med["demine_detect_s"], 2),
        "pairs": _agreement(mine, theirs),
    }


_DEMINE_FIGURES = ("read_s", "detect_s", "total_s", "total_cpu_s")
_PEER_FIGURES = (*_DEMINE_FIGURES, "sjoin_s", "intersection_s", "measure_s")


def _demine_run(make_input: Callable) -> tuple[peer.Pairs, dict[str, float]]:
    read_s, read_cpu, features = make_input()
    detect_s, detect_cpu, found = clock(lambda: demine_pairs(features))
    return found, {"polygons": len(features), "demine_read_s": read_s,
                   "demine_detect_s": detect_s, "demine_total_s": read_s + detect_s,
                   "demine_total_cpu_s": read_cpu + detect_cpu}


def _peer_run(make_input: Callable) -> tuple[peer.Pairs, dict[str, float]]:
    read_s, read_cpu, frame = make_input()
    steps: dict[str, float] = {}
    detect_s, detect_cpu, found = clock(lambda: peer.detect(frame, OVERLAP_TOLERANCE_M2, steps))
    return found, {"peer_read_s": read_s, "peer_detect_s": detect_s,
                   "peer_total_s": read_s + detect_s, "peer_total_cpu_s": read_cpu + detect_cpu,
                   **{"peer_" + k: v for k, v in steps.items()}}


def _agreement(mine: peer.Pairs, theirs: peer.Pairs) -> dict[str, Any]:
    """Counts on each side and whether the pair sets (and their classes) are identical."""
    def kinds(pairs: peer.Pairs) -> dict[str, int]:
        return {k: sum(1 for v in pairs.values() if v == k) for k in ("duplicate", "overlap")}

    differ = sorted(set(mine.items()) ^ set(theirs.items()))
    return {"demine": len(mine), "geopandas": len(theirs), "demine_by_kind": kinds(mine),
            "geopandas_by_kind": kinds(theirs), "agree": not differ,
            "differences": [list(map(str, d)) for d in differ[:10]]}


def whole_check(path: Path, timeout: float) -> dict[str, Any]:
    """The whole `demine check --json` command once (every check, start-up included)."""
    args = [*demine_command(), "check", "--db", str(path), "--json"]
    seconds, report = run_json(args, timeout, ok=(0, 1))  # 1: error findings, still a report
    return {"wall_s": round(seconds, 2), "counts": report["counts"],
            "checked": report["checked"]}
