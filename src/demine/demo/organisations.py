"""Organisations, their teams, and the EO model reference list."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from demine.demo.landscape import Landscape
from demine.demo.names import NameMaker
from demine.demo.params import COUNTRY_CODE, Scale
from demine.demo.records import rows_from_columns, stamp

# Team methods fit for each activity kind, in tiers: the first tier an organisation has is used.
FITTING_METHODS: dict[str, tuple[tuple[str, ...], ...]] = {
    "nts": (("nts",), ("ts",)),
    "ts": (("ts", "mechanical"), ("nts",)),
    "clearance": (("manual", "mechanical", "mdd"),),
    "bac": (("bac",), ("eod",)),
    "eod_spot_task": (("eod",), ("bac",)),
    "pci": (("manual", "mdd"), ("ts",)),
}
_CORE_METHODS = {"operator": ("nts", "manual", "bac", "ts", "mechanical"),
                 "ngo": ("nts", "manual", "bac", "ts", "mdd", "eod"),
                 "military": ("eod", "bac", "manual", "nts", "mechanical")}
_EXTRA_METHODS = ("manual", "mechanical", "mdd", "bac", "eod", "nts", "ts")
_EXTRA_P = np.array([3.0, 2.5, 2.0, 1.0, 2.0, 1.0, 1.0]) / 12.5
_TEAM_SIZE = {"manual": (8, 13), "mechanical": (3, 6), "mdd": (4, 7), "bac": (6, 11),
              "eod": (2, 5), "nts": (2, 5), "ts": (4, 9)}
_METHOD_LABEL = {"manual": "manual clearance", "mechanical": "mechanical", "mdd": "MDD",
                 "bac": "BAC", "eod": "EOD", "nts": "NTS", "ts": "TS"}
_FIELD_WEIGHT = {"operator": 3.0, "ngo": 2.0, "military": 1.5, "commercial": 1.0}


@dataclass
class Organisations:
    """Organisation and team rows plus who does which field work."""

    rows: list[dict]
    team_rows: list[dict]
    authority_id: int
    field_ids: np.ndarray  # organisations that do field work
    field_weights: np.ndarray
    recorded_by: dict[int, str]
    kinds: dict[int, str]
    _teams: dict[tuple[int, str], list[tuple[int, str]]] = field(default_factory=dict)

    def team(self, rng: np.random.Generator, org_id: int, kind: str) -> tuple[int, str]:
        """A team of ``org_id`` fit for an activity of ``kind``: (team id, method)."""
        key = (org_id, kind)
        if key not in self._teams:
            own = [(t["id"], t["method"]) for t in self.team_rows if t["organisation_id"] == org_id]
            tiers = [[t for t in own if t[1] in tier] for tier in FITTING_METHODS[kind]]
            self._teams[key] = next((tier for tier in tiers if tier), own)
        options = self._teams[key]
        return options[int(rng.integers(len(options)))]

    def of_kind(self, *kinds: str) -> list[int]:
        """Ids of the organisations of the given kinds."""
        return [i for i, k in self.kinds.items() if k in kinds]


def _core(country: str, names: NameMaker) -> list[tuple[str, str, str, str]]:
    north, west, allied = names.word(), names.word(), names.word()
    return [
        ("NMAA", f"National Mine Action Authority of {country}", "authority", COUNTRY_CODE),
        ("SEDS", f"{country} State Emergency Demining Service", "operator", COUNTRY_CODE),
        ("NDC", f"{country} National Demining Centre", "operator", COUNTRY_CODE),
        ("HDA", f"{north} Humanitarian Demining Aid", "ngo", "XNV"),
        ("SFI", f"Safe Fields International ({west})", "ngo", "XWM"),
        ("AEB", f"{allied} Army Engineer Battalion 12", "military", "XAL"),
    ]


def _extra(n: int, names: NameMaker) -> list[tuple[str, str, str, str]]:
    extra = []
    for i in range(n):
        kind = "operator" if i % 2 == 0 else "ngo"
        prefix, label = ("OP", "Demining") if kind == "operator" else ("NG", "Mine Relief")
        extra.append((f"{prefix}{i // 2 + 1:02d}", f"{names.word()} {label}", kind, COUNTRY_CODE))
    return extra


def _team_counts(rng: np.random.Generator, kinds: list[str], total: int | None) -> list[int]:
    counts = [0 if k == "authority" else int(rng.integers(5, 9)) for k in kinds[:6]]
    extra = len(kinds) - 6
    if total is None or extra == 0:
        return counts + [4] * extra
    left = total - sum(counts)
    base = [3] * extra
    for i in rng.choice(extra, size=left - 3 * extra, replace=True):
        base[int(i)] += 1
    return counts + base


def _bases(rng: np.random.Generator, land: Landscape, n: int) -> list[int]:
    hubs = np.array([i for i, k in enumerate(land.place_kinds) if k in ("city", "town")])
    weight = np.exp(-land.place_front_m[hubs] / 40_000.0)
    return (hubs[rng.choice(len(hubs), size=n, p=weight / weight.sum())] + 1).tolist()


def build_organisations(
    rng: np.random.Generator, scale: Scale, land: Landscape, names: NameMaker
) -> Organisations:
    """Six core organisations (plus, for the national scale, more operators and NGOs)."""
    orgs = _core(land.country_name, names) + _extra(scale.extra_orgs, names)
    kinds = [o[2] for o in orgs]
    created = stamp(-int(rng.integers(200, 400)), 9 * 3600)
    rows = rows_from_columns({
        "code": [o[0] for o in orgs], "name": [o[1] for o in orgs], "kind": kinds,
        "country": [o[3] for o in orgs], "created_at": [created] * len(orgs),
    })
    counts = _team_counts(rng, kinds, scale.total_teams)
    team_cols: dict[str, list] = {k: [] for k in ("code", "name", "organisation_id", "method",
                                                  "size", "base_place_id")}
    bases = _bases(rng, land, sum(counts))
    for org_id, (org, count) in enumerate(zip(orgs, counts, strict=True), start=1):
        core = _CORE_METHODS.get(org[2], ())
        extra = rng.choice(_EXTRA_METHODS, size=max(count - len(core), 0), p=_EXTRA_P).tolist()
        for n, method in enumerate([*core[:count], *extra], start=1):
            team_cols["code"].append(f"{org[0]}-T{n:02d}")
            team_cols["name"].append(f"{org[0]} {_METHOD_LABEL[method]} team {n}")
            team_cols["organisation_id"].append(org_id)
            team_cols["method"].append(method)
            team_cols["size"].append(int(rng.integers(*_TEAM_SIZE[method])))
            team_cols["base_place_id"].append(bases[len(team_cols["code"]) - 1])
    field_ids = np.array([i for i, k in enumerate(kinds, start=1) if k != "authority"])
    weights = np.array([_FIELD_WEIGHT[kinds[i - 1]] * (2.0 if i <= 6 else 1.0) for i in field_ids])
    recorded_by = {r["id"]: f"demo@{r['code'].lower()}" for r in rows}
    return Organisations(rows, rows_from_columns(team_cols), 1, field_ids, weights / weights.sum(),
                         recorded_by, {r["id"]: r["kind"] for r in rows})


def eo_model_rows() -> list[dict]:
    """One row per model in the EO catalogue."""
    from demine.domain.eo_catalogue import EO_MODELS

    return rows_from_columns({
        "code": [m.code for m in EO_MODELS],
        "category": [str(m.category) for m in EO_MODELS],
        "origin": [m.origin for m in EO_MODELS],
        "description": [m.description for m in EO_MODELS],
    })

