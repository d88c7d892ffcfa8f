"""Data quality checks (`demine check`): one read-only pass over the store, one report.

Findings are errors (invalid geometry, ledger imbalance, dangling foreign keys, swapped
coordinates, missing edit guards, a broken audit chain) or warnings (overlapping or duplicate
hazards, records outside the gazetteer, logical orphans). Every read is filtered by what the
actor may see; the store-wide integrity checks (edit guards, audit chain) run for
administrators only, since a partial view cannot vouch for the whole store.
"""

from __future__ import annotations

from collections.abc import Callable

from demine.domain.actors import Actor
from demine.services.checks import geometry, integrity, ledger
from demine.services.checks.features import Features, load
from demine.services.checks.report import CHECKS, ERROR, WARNING, CheckReport, Finding
from demine.services.references import Resolver
from demine.storage.database import UnitOfWork

__all__ = ["CHECKS", "ERROR", "WARNING", "CheckReport", "Finding", "run_checks"]

OVERLAP_TOLERANCE_M2 = 1.0
POLYGON_LAYERS = ("hazards", "activities", "land_releases")
LOCATED_LAYERS = ("hazards", "eo_finds", "accidents", "eore_sessions")
_STEPS = 7


def run_checks(
    uow: UnitOfWork,
    *,
    actor: Actor,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> CheckReport:
    """Run every data quality check over what ``actor`` may see."""
    report = CheckReport()
    step = _Steps(progress)
    layers: dict[str, Features] = {
        "hazards": load(uow, actor, "hazards", "status", *ledger.LEDGER),
        "activities": load(uow, actor, "activities"),
        "land_releases": load(uow, actor, "land_releases", *ledger.RELEASE_COLUMNS),
    }
    step()
    for name in POLYGON_LAYERS:
        report.findings += geometry.invalid_findings(layers[name])
    report.findings += geometry.hazard_overlap_findings(layers["hazards"], OVERLAP_TOLERANCE_M2)
    step()
    report.findings += ledger.ledger_findings(layers["hazards"], layers["land_releases"],
                                              uow.settings.release_tolerance_m2)
    step()
    extent = Resolver(uow).extent()
    report.checked = {name: len(features) for name, features in layers.items()}
    for name in LOCATED_LAYERS:
        located = layers[name] if name in layers else load(uow, actor, name)
        report.checked[name] = len(located)
        report.findings += geometry.extent_findings(located, extent)
    step()
    report.findings += integrity.foreign_key_orphans(uow, actor)
    report.findings += integrity.logical_orphans(uow, actor)
    step()
    if actor.is_admin:
        report.findings += integrity.guard_findings(uow)
        step()
        findings, report.checked["audit_log"] = integrity.audit_findings(uow)
        report.findings += findings
    step(done=True)
    report.sorted()
    return report


class _Steps:
    """Drives the progress callback one stage at a time."""

    def __init__(self, progress: Callable[[int, int], None]):
        self.progress, self.done = progress, 0
        progress(0, _STEPS)

    def __call__(self, *, done: bool = False) -> None:
        self.done = _STEPS if done else min(self.done + 1, _STEPS)
        self.progress(self.done, _STEPS)
