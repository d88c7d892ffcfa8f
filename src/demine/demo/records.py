"""Calendar helpers and the columns every versioned record carries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np

from demine.demo.params import LAST_DAY, START

SENSITIVITIES = ("public", "shared", "restricted", "confidential")
SENSITIVITY_P = (0.15, 0.65, 0.15, 0.05)
PERSONAL_SENSITIVITY_P = (0.0, 0.10, 0.55, 0.35)
REVIEW = ("approved", "submitted")
REVIEW_P = (0.9, 0.1)

_PAD = 400  # planned work may start after the end of the history
_DATES = [START + timedelta(days=d) for d in range(-_PAD, LAST_DAY + _PAD)]
_MIDNIGHTS = [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in _DATES]
_SECONDS = [timedelta(seconds=s) for s in range(86_400)]


def day(offset: int) -> date:
    """The date ``offset`` days after the start of the history."""
    return _DATES[offset + _PAD]


def stamp(offset: int, seconds: int) -> datetime:
    """A UTC timestamp on day ``offset`` at ``seconds`` past midnight."""
    return _MIDNIGHTS[offset + _PAD] + _SECONDS[seconds]


def office_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Times of day (seconds) in office hours, 06:00-18:00 UTC."""
    return rng.integers(6 * 3600, 18 * 3600, n)


def record_columns(
    rng: np.random.Generator,
    org_ids: list[int],
    days: list[int],
    recorded_by: dict[int, str],
    sensitivity_p: tuple[float, ...] = SENSITIVITY_P,
) -> dict[str, list]:
    """Columns every versioned record carries, recorded on ``days`` by ``org_ids``."""
    n = len(org_ids)
    sens = rng.choice(len(SENSITIVITIES), size=n, p=sensitivity_p).tolist()
    review = rng.choice(len(REVIEW), size=n, p=REVIEW_P).tolist()
    secs = office_seconds(rng, n).tolist()
    return {
        "organisation_id": list(org_ids),
        "sensitivity": [SENSITIVITIES[i] for i in sens],
        "review_status": [REVIEW[i] for i in review],
        "version": [1] * n,
        "recorded_at": [stamp(d, s) for d, s in zip(days, secs, strict=True)],
        "recorded_by": [recorded_by[o] for o in org_ids],
    }


def rows_from_columns(columns: dict[str, list]) -> list[dict]:
    """Rows (dicts) from equal-length column lists, with ids 1..n first."""
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of unequal length: {lengths}")
    n = lengths.pop() if lengths else 0
    keys = ["id", *columns]
    ids = range(1, n + 1)
    return [dict(zip(keys, vals, strict=True)) for vals in zip(ids, *columns.values(), strict=True)]


def dates(offsets: list[int]) -> list[date]:
    """Dates for a list of day offsets."""
    return [_DATES[o + _PAD] for o in offsets]


def weighted_index(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` indices drawn with probability proportional to ``weights``."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())
