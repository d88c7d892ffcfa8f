"""EO models to type finds with, drawn from the reference catalogue (common models first)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def _by_category() -> dict[str, tuple[list[str], np.ndarray]]:
    from demine.domain.eo_catalogue import models_in
    from demine.domain.vocab import EOCategory

    out = {}
    for category in EOCategory:
        codes = [m.code for m in models_in(category)]
        weights = 1.0 / (np.arange(len(codes)) + 1.0)  # the catalogue lists common models first
        out[str(category)] = (codes, weights / weights.sum())
    return out


def pick_models(rng: np.random.Generator, categories: np.ndarray) -> np.ndarray:
    """A model code of the right category for each entry of ``categories`` (object array)."""
    categories = np.asarray(categories, dtype=object)
    out = np.empty(len(categories), dtype=object)
    for category, (codes, weights) in _by_category().items():
        where = np.flatnonzero(categories == category)
        if len(where):
            picks = rng.choice(len(codes), len(where), p=weights)
            out[where] = np.array(codes, dtype=object)[picks]
    return out
