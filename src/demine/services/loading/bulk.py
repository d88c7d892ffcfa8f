"""Bulk loading of a whole dataset (the demo region): ledger replayed, history kept, audited.

Rows arrive with explicit ids in foreign-key order. Releases are checked against their
hazards (vectorised), each hazard's ledger is replayed release by release in recorded order,
and every superseded hazard version goes to history, so `stats --as-of` works on the result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from sqlalchemy import insert

from demine.domain.actors import Actor
from demine.domain.errors import Invalid, Problem
from demine.domain.ledger import Balance, closure_after_release
from demine.services import audit
from demine.services.tiles import changes as tile_changes
from demine.storage import dialect
from demine.storage.database import UnitOfWork
from demine.storage.tables import HISTORY, LAYERS, table

CHUNK = 20_000
M2_PER_DEG2_AT_EQUATOR = 111_320.0**2


def load_dataset(
    uow: UnitOfWork,
    *,
    actor: Actor,
    rows: dict[str, list[dict[str, Any]]],
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[str, int]:
    """Insert every table's rows in one transaction; returns rows written per table."""
    _check_releases(rows.get("hazards", []), rows.get("land_releases", []),
                    uow.settings.release_tolerance_m2)
    hazards, hazard_history = replay_ledger(
        rows.get("hazards", []), rows.get("land_releases", []), rows.get("activities", []),
        closure_tolerance_m2=uow.settings.closure_tolerance_m2, actor=actor,
    )
    plan = {**rows, "hazards": hazards, "hazards_history": hazard_history}
    total, done, written = sum(len(v) for v in plan.values()), 0, {}
    for name, table_rows in plan.items():
        t = table(name) if name != "hazards_history" else HISTORY["hazards"]
        for start in range(0, len(table_rows), CHUNK):
            uow.conn.execute(insert(t), table_rows[start : start + CHUNK])
            done += len(table_rows[start : start + CHUNK])
            progress(done, total)
        written[name] = len(table_rows)
        if "id" in t.c and table_rows:
            dialect.sync_id_sequence(uow.conn, name)
        tile_changes.whole_layer(uow, name)
        audit.append(uow, actor=actor, action="bulk.load", table=name,
                     detail=audit.canonical({"rows": len(table_rows)}))
    dialect.refresh_layer_extents(uow.conn, LAYERS)
    return written


def _check_releases(hazards, releases, tolerance_m2: float) -> None:
    """Releases lie inside their hazard (planar check scaled to m², vectorised)."""
    if not releases:
        return
    geom_of = {h["id"]: h["geom"] for h in hazards}
    rel = np.array([r["geom"] for r in releases], dtype=object)
    hz = np.array([geom_of.get(r["hazard_id"]) for r in releases], dtype=object)
    lat = np.radians(shapely.get_y(shapely.centroid(rel)))
    outside = shapely.area(shapely.difference(rel, hz)) * M2_PER_DEG2_AT_EQUATOR * np.cos(lat)
    bad = np.flatnonzero(outside > max(tolerance_m2, 1.0))
    if len(bad):
        raise Invalid([Problem(f"land release {releases[i]['id']}", "geom",
                               f"{outside[i]:.1f} m² outside hazard {releases[i]['hazard_id']}")
                       for i in bad[:20]])


def replay_ledger(hazards, releases, activities, *, closure_tolerance_m2: float, actor: Actor):
    """Final hazard rows and their superseded versions, one version per release."""
    by_hazard: dict[int, list[dict]] = defaultdict(list)
    for release in releases:  # a release counts once its activity is approved
        if release.get("review_status", "approved") == "approved":
            by_hazard[release["hazard_id"]].append(release)
    worked = {a["hazard_id"] for a in activities if a.get("status") in ("ongoing", "completed")
              and a.get("review_status", "approved") == "approved"}
    final, history = [], []
    for hazard in hazards:
        row = dict(hazard)
        row.setdefault("status", "open")
        row.setdefault("closure_reason", None)
        row.setdefault("closed_on", None)
        for release in sorted(by_hazard.get(row["id"], ()), key=lambda r: r["recorded_at"]):
            history.append({**row, "valid_to": release["recorded_at"],
                            "superseded_by": actor.name})
            row = _after_release(row, release, closure_tolerance_m2)
        if row["id"] in worked and row["status"] == "open":
            row["status"] = "worked_on"
        final.append(row)
    return final, history


def _after_release(row: dict, release: dict, closure_tolerance_m2: float) -> dict:
    balance = Balance(row["baseline_m2"], row.get("cancelled_m2", 0.0),
                      row.get("reduced_m2", 0.0), row.get("cleared_m2", 0.0))
    balance = balance.plus(release["release_kind"], release["area_m2"])
    status, reason, closed_on = closure_after_release(
        row["status"], row["closure_reason"], row["closed_on"], balance.remaining_m2,
        released_on=release["released_on"], closure_tolerance_m2=closure_tolerance_m2)
    return {**row, **balance.columns(), "status": status, "closure_reason": reason,
            "closed_on": closed_on,
            "version": row.get("version", 1) + 1, "recorded_at": release["recorded_at"]}
