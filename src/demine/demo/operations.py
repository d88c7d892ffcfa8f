"""Two years of land release work: which activities each hazard saw, by whom and when."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demine.demo.contamination import Hazards
from demine.demo.evidence import SHELLING
from demine.demo.organisations import Organisations
from demine.demo.params import LAST_DAY

# Scenario of each hazard over the two years, with its share of hazards.
SCENARIOS = (
    ("untouched", 0.52), ("nts_full", 0.12), ("clear_full", 0.09), ("nts_part", 0.12),
    ("ts_part", 0.03), ("clear_part", 0.04), ("chain_full", 0.03), ("nts_then_clear", 0.01),
    ("ongoing", 0.02), ("eod", 0.02),
)
_RATE_HA_PER_DAY = {"manual": 0.04, "mechanical": 0.3, "mdd": 0.15, "bac": 0.35, "eod": 0.3,
                    "ts": 0.3, "nts": 0.5}
PCI_SHARE = 0.06

Ranges = list[tuple[int, int]]


@dataclass(slots=True)
class Step:
    """One activity a scenario calls for: strips worked and strips it releases if completed."""

    kind: str
    worked: Ranges
    released: Ranges | None
    finish: bool = True


@dataclass(slots=True)
class Activity:
    """A scheduled activity on hazard ``hazard`` (an index into the hazards)."""

    hazard: int
    seq: int
    kind: str
    worked: Ranges
    released: Ranges | None  # only for completed releasing activities
    status: str
    start: int
    end: int | None
    recorded: int
    org: int
    team: int
    method: str
    depth_cm: int | None


def _cuts(rng: np.random.Generator, m: int, k: int) -> list[int]:
    return sorted(int(c) for c in rng.choice(np.arange(1, m), size=k, replace=False))


def _steps(rng: np.random.Generator, scenario: str, m: int, clear: str) -> list[Step]:
    whole = [(0, m)]
    c1, c2 = _cuts(rng, m, 2)
    if scenario == "nts_full":
        return [Step("nts", whole, whole)]
    if scenario == "clear_full":
        return [Step(clear, whole, whole)]
    if scenario == "nts_part":
        ends = [(0, c1), (c2, m)] if rng.random() < 0.3 else [(0, c1)]
        return [Step("nts", whole, ends)]
    if scenario == "ts_part":
        return [Step("ts", whole, [(0, c1)])]
    if scenario == "clear_part":
        steps = [Step(clear, [(0, c1)], [(0, c1)])]
        return steps + ([Step(clear, [(c1, m)], [(c1, m)], False)] if rng.random() < 0.5 else [])
    if scenario == "chain_full":
        steps = [Step("nts", whole, [(0, c1)])]
        if rng.random() < 0.4:
            steps.append(Step("ts", [(c1, m)], [(c1, c2)]))
            c1 = c2
        return steps + [Step(clear, [(c1, m)], [(c1, m)])]
    if scenario == "nts_then_clear":
        return [Step("nts", whole, [(0, c1)]), Step(clear, [(c1, m)], [(c1, m)], False)]
    if scenario == "ongoing":
        return [Step(clear, whole, whole, False)]
    if scenario == "eod":
        return [Step("eod_spot_task", whole, None)]
    return []


def _flip(ranges: Ranges, m: int) -> Ranges:
    return sorted((m - b, m - a) for a, b in ranges)


def _mirror(steps: list[Step], m: int) -> None:
    """Work from the other end of the hazard."""
    for step in steps:
        step.worked = _flip(step.worked, m)
        step.released = _flip(step.released, m) if step.released is not None else None


def share_of_length(ranges: Ranges, m: int) -> float:
    """Roughly what share of a ribbon with ``m`` stations the strips ``ranges`` cover."""
    return sum(np.cos(np.pi * a / m) - np.cos(np.pi * b / m) for a, b in ranges) / 2.0


def _depth(rng: np.random.Generator, kind: str, held: tuple[str, ...]) -> int | None:
    if kind == "bac":
        return int(rng.choice([30, 50]))
    if kind != "clearance":
        return None
    if "at_mine" in held:
        return 30
    return 20 if "ied" in held else int(rng.choice([13, 20]))


def _duration(rng: np.random.Generator, kind: str, method: str, area_ha: float) -> int:
    if kind == "nts":
        return int(rng.integers(1, 5))
    if kind in ("eod_spot_task", "pci"):
        return int(rng.integers(1, 4))
    days = area_ha / _RATE_HA_PER_DAY[method] * rng.uniform(0.7, 1.3)
    if kind == "ts":
        days *= 0.3
    return int(np.clip(np.ceil(days), 2, 220))


def _status(rng: np.random.Generator, t: int, duration: int, finish: bool, floor: int):
    """(status, start, end, recorded day) for work that would start on day ``t``."""
    if t > LAST_DAY:
        start = min(t, LAST_DAY + 90)
        recorded = int(np.clip(start - rng.integers(10, 45), floor, LAST_DAY))
        return "planned", start, None, recorded
    if not finish or t + duration > LAST_DAY:
        return "ongoing", t, None, min(t + int(rng.integers(0, 8)), LAST_DAY)
    end = t + duration
    return "completed", t, end, min(end + int(rng.integers(0, 10)), LAST_DAY)


def _schedule(
    rng: np.random.Generator, h: int, steps: list[Step], hazards: Hazards, orgs: Organisations
) -> list[Activity]:
    org, m = int(hazards.worker[h]), int(hazards.shapes.stations[h])
    reported, area_ha = int(hazards.reported[h]), hazards.area_m2[h] / 10_000.0
    t = reported + 3 + int(rng.exponential(60.0))
    out: list[Activity] = []
    for step in steps:
        team, method = orgs.team(rng, org, step.kind)
        duration = _duration(rng, step.kind, method, area_ha * share_of_length(step.worked, m))
        status, start, end, recorded = _status(rng, t, duration, step.finish, reported)
        released = step.released if status == "completed" else None
        depth = _depth(rng, step.kind, hazards.held[h])
        out.append(Activity(h, len(out), step.kind, step.worked, released, status, start, end,
                            recorded, org, team, method, depth))
        if status != "completed":
            break
        if released and step.kind in ("clearance", "bac") and rng.random() < PCI_SHARE:
            out.extend(_inspection(rng, out[-1], orgs))
        t = end + 1 + int(rng.exponential(25.0))
    return out


def _inspection(rng: np.random.Generator, done: Activity, orgs: Organisations) -> list[Activity]:
    """A post-clearance inspection of ``done``'s cleared land, if it fits in the history."""
    start = done.end + 10 + int(rng.integers(0, 50))
    end = start + int(rng.integers(0, 3))
    if end > LAST_DAY:
        return []
    team, method = orgs.team(rng, done.org, "pci")
    recorded = min(end + int(rng.integers(0, 7)), LAST_DAY)
    return [Activity(done.hazard, done.seq + 1, "pci", list(done.released), None, "completed",
                     start, end, recorded, done.org, team, method, None)]


def plan_activities(
    rng: np.random.Generator, hazards: Hazards, orgs: Organisations
) -> list[Activity]:
    """Every activity of the history, in order of start."""
    names = [s[0] for s in SCENARIOS]
    shares = np.array([s[1] for s in SCENARIOS])
    scenario = rng.choice(len(SCENARIOS), size=len(hazards.rows), p=shares / shares.sum())
    plans: list[Activity] = []
    for h in np.flatnonzero(scenario != 0).tolist():
        m = int(hazards.shapes.stations[h])
        clear = "bac" if hazards.process[h] == SHELLING else "clearance"
        steps = _steps(rng, names[scenario[h]], m, clear)
        if rng.random() < 0.5:
            _mirror(steps, m)
        plans.extend(_schedule(rng, h, steps, hazards, orgs))
    plans.sort(key=lambda a: (a.start, a.hazard, a.seq))
    return plans
