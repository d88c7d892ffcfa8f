"""Data quality checks (`demine check`): one read-only pass over the store, one report.

Findings are errors (invalid geometry, ledger imbalance, dangling foreign keys, swapped
coordinates, missing edit guards, EO tallies that disagree with the finds, a broken audit
chain) or warnings (overlapping or duplicate
hazards, slivers, narrow gaps between a hazard and its released parts, records outside the
gazetteer, logical orphans). Every read is filtered by what the
actor may see; what a partial view cannot vouch for (edit guards, the audit chain, a
hazard's columns against all of its releases) is checked for administrators only.
"""

from __future__ import annotations

from collections.abc import Callable

from demine.domain.actors import Actor
from demine.services.access.permissions import sees_all
from demine.services.access.require import allowed, require
from demine.services.checks import geometry, integrity, ledger, slivers
from demine.services.checks.features import Features, combine, count, load
from demine.services.checks.report import CHECKS, ERROR, WARNING, CheckReport, Finding
from demine.services.records.resolver import Resolver
from demine.storage.database import UnitOfWork
from demine.storage.tables import table

__all__ = ["CHECKS", "ERROR", "WARNING", "CheckReport", "Finding", "run_checks"]

OVERLAP_TOLERANCE_M2 = 1.0
POLYGON_LAYERS = ("hazards", "activities", "land_releases")
LOCATED_LAYERS = ("hazards", "eo_finds", "accidents", "eore_sessions")
# Rough share of the time each stage takes on a large store, to drive the progress bar.
_STAGES = {"read": 5, "geometry": 10, "ledger": 55, "extent": 10, "orphans": 15, "integrity": 5}


def run_checks(
    uow: UnitOfWork,
    *,
    actor: Actor,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> CheckReport:
    """Run every data quality check over what ``actor`` may see (signed-in actors only:
    a whole pass over the store is not offered to anonymous callers)."""
    require(actor, "checks.run")
    report = CheckReport()
    done = _Stages(progress)
    layers: dict[str, Features] = {
        "hazards": load(uow, actor, "hazards", "status", *ledger.LEDGER),
        "activities": load(uow, actor, "activities"),
        "land_releases": load(uow, actor, "land_releases", *ledger.RELEASE_COLUMNS),
    }
    report.checked = {name: len(features) for name, features in layers.items()}
    done("read")
    for name in POLYGON_LAYERS:
        report.findings += geometry.invalid_findings(layers[name])
    report.findings += geometry.hazard_overlap_findings(layers["hazards"], OVERLAP_TOLERANCE_M2)
    done("geometry")
    report.findings += ledger.ledger_findings(
        layers["hazards"], layers["land_releases"], uow.settings.release_tolerance_m2,
        all_releases_seen=sees_all(actor), progress=done.within("ledger"))
    width = uow.settings.sliver_width_m
    for name in POLYGON_LAYERS:
        report.findings += slivers.sliver_findings(layers[name], width)
    report.findings += slivers.gap_findings(layers["hazards"], layers["land_releases"], width)
    done("ledger")
    report.findings += _extent_findings(uow, actor, report.checked)
    done("extent")
    report.findings += integrity.foreign_key_orphans(uow, actor)
    report.findings += integrity.logical_orphans(uow, actor)
    done("orphans")
    if allowed(actor, "checks.integrity"):
        report.findings += integrity.guard_findings(uow)
        report.findings += integrity.tally_findings(uow)
        report.findings += integrity.mirror_findings(uow)
        findings, report.checked["audit_log"] = integrity.audit_findings(uow)
        report.findings += findings
    done("integrity")
    report.sorted()
    return report


def _extent_findings(uow: UnitOfWork, actor: Actor, checked: dict[str, int]) -> list[Finding]:
    """Located records outside the gazetteer, reading only those the index says may be."""
    extent = Resolver(uow).extent()
    findings = []
    for name in LOCATED_LAYERS:
        if name not in checked:
            checked[name] = count(uow, actor, name)
        if extent is not None:
            # one read per strip: dialect.spatial_clause names its parameters alike
            near_edges = combine([load(uow, actor, name, where=strip)
                                  for strip in geometry.beyond(uow.conn, table(name), extent)])
            findings += geometry.extent_findings(near_edges, extent)
    return findings


class _Stages:
    """Drives the progress callback, one stage at a time, weighted by its usual cost."""

    def __init__(self, progress: Callable[[int, int], None]):
        self.progress, self.done, self.total = progress, 0, sum(_STAGES.values())
        progress(0, self.total)

    def __call__(self, stage: str) -> None:
        self.done += _STAGES[stage]
        self.progress(self.done, self.total)

    def within(self, stage: str) -> Callable[[float], None]:
        """A callback(fraction) for progress inside the stage that comes next."""
        return lambda fraction: self.progress(self.done + fraction * _STAGES[stage], self.total)
