"""What a hazard holds and why it is suspected: contamination, evidence, blockages."""

from __future__ import annotations

import numpy as np

MINEFIELD, SHELLING, IED = 0, 1, 2

CONTAMINATION_OPTIONS: dict[int, tuple[tuple[tuple[str, ...], float], ...]] = {
    MINEFIELD: ((("ap_mine",), 0.35), (("ap_mine", "at_mine"), 0.30), (("at_mine",), 0.20),
                (("ap_mine", "booby_trap"), 0.10), (("ap_mine", "at_mine", "uxo"), 0.05)),
    SHELLING: ((("uxo",), 0.45), (("uxo", "submunition"), 0.25), (("submunition",), 0.15),
               (("uxo", "axo"), 0.10), (("axo",), 0.05)),
    IED: ((("ied",), 0.35), (("booby_trap",), 0.25), (("ied", "booby_trap"), 0.30),
          (("ied", "uxo"), 0.10)),
}
CHA_SHARE = np.array([0.65, 0.25, 0.5])

_EVIDENCE = ("accident", "eo_sighted", "minefield_record", "former_front_line", "shelling",
             "airstrike", "informant", "fencing_or_marking")
# Probability of each evidence category per process (eo_sighted is set for every CHA).
_EVIDENCE_P = np.array([
    [0.08, 0.0, 0.5, 1.0, 0.0, 0.0, 0.3, 0.35],
    [0.05, 0.0, 0.0, 0.2, 0.85, 0.2, 0.5, 0.05],
    [0.08, 0.0, 0.0, 0.5, 0.1, 0.0, 0.7, 0.1],
])
_INDIRECT = {
    "accident": "an accident was reported nearby",
    "minefield_record": "minefield record handed over by the former occupying forces",
    "former_front_line": "defensive positions of the former line of contact",
    "shelling": "residents report heavy shelling during the fighting",
    "airstrike": "airstrike reported by the local administration",
    "informant": "a local informant reports devices left behind",
    "fencing_or_marking": "improvised fencing and mine warning signs seen",
}
_DIRECT = ("{model} seen on the surface by the survey team",
           "{model} found by a farmer and confirmed by the survey team",
           "{model} visible at the edge of the area",
           "remains of a {model} found during the visit")
_BLOCKAGES = ("agriculture", "grazing", "housing", "road", "water", "infrastructure", "forest",
              "school", "health")
_BLOCKAGE_P = np.array([
    [0.7, 0.3, 0.02, 0.1, 0.05, 0.05, 0.2, 0.0, 0.0],
    [0.5, 0.2, 0.3, 0.2, 0.1, 0.2, 0.1, 0.03, 0.02],
    [0.05, 0.02, 0.8, 0.1, 0.05, 0.2, 0.0, 0.1, 0.05],
])
_FALLBACK_BLOCKAGE = ("agriculture", "agriculture", "housing")


def contamination(rng: np.random.Generator, process: np.ndarray) -> list[tuple[str, ...]]:
    """The EO categories each hazard holds, as fits the process that laid it."""
    out: list[tuple[str, ...]] = [()] * len(process)
    for proc, options in CONTAMINATION_OPTIONS.items():
        where = np.flatnonzero(process == proc)
        p = np.array([o[1] for o in options])
        picks = rng.choice(len(options), size=len(where), p=p / p.sum())
        for i, pick in zip(where.tolist(), picks.tolist(), strict=True):
            out[i] = options[pick][0]
    return out


def _codes(flags: np.ndarray, names: tuple[str, ...]) -> list[list[str]]:
    return [[names[j] for j in np.flatnonzero(row)] for row in flags]


def evidence(
    rng: np.random.Generator,
    process: np.ndarray,
    is_cha: np.ndarray,
    sighted_models: list[str],
) -> dict[str, list]:
    """Evidence categories and texts (direct for CHA, indirect always) and blockages."""
    n = len(process)
    flags = rng.random((n, len(_EVIDENCE))) < _EVIDENCE_P[process]
    flags[:, 1] = is_cha
    lone = flags.sum(1) - flags[:, 1] == 0
    flags[lone, 6] = True  # at least one indirect reason: an informant
    categories = _codes(flags, _EVIDENCE)
    blocked = rng.random((n, len(_BLOCKAGES))) < _BLOCKAGE_P[process]
    blockages = _codes(blocked, _BLOCKAGES)
    templates = rng.integers(len(_DIRECT), size=n).tolist()
    direct = [
        _DIRECT[t].format(model=m).capitalize() if c else None
        for t, m, c in zip(templates, sighted_models, is_cha.tolist(), strict=True)
    ]
    indirect = []
    for cats in categories:
        reasons = [_INDIRECT[c] for c in cats if c != "eo_sighted"][:2]
        indirect.append("; ".join(reasons).capitalize())
    return {
        "evidence_direct": direct,
        "evidence_indirect": indirect,
        "evidence_categories": [",".join(c) for c in categories],
        "blockages": [",".join(b) or _FALLBACK_BLOCKAGE[p] for b, p in
                      zip(blockages, process.tolist(), strict=True)],
    }
