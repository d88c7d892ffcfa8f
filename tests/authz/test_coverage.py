"""The matrix covers everything: every route of the OpenAPI document has a rule, the plan has
enough cases, and each role meets every cell."""

from __future__ import annotations

import itertools
from collections import Counter

from .rules import (
    DERIVED_LAYERS,
    FIXED_RULES,
    FULL,
    MIN_CASES,
    MIN_CASES_SAMPLED,
    POSTGIS_WRITE_SAMPLE,
    RECORD_LAYERS,
    ROLES,
    ROUTES,
    SENSITIVITIES,
    layers_with,
)

# --- Every route has a rule ---------------------------------------------------------------

def test_every_route_has_a_rule():
    missing = sorted(f"{m.upper()} {p}" for (p, m), rule in ROUTES.items() if rule is None)
    assert not missing, f"routes without a rule in the authorization matrix: {missing}"
    stale = sorted(f"{m.upper()} {p}" for p, m in FIXED_RULES if (p, m) not in ROUTES)
    assert not stale, f"rules for routes that no longer exist: {stale}"
    kinds = {rule[0] for rule in ROUTES.values() if rule}
    assert {"list", "read", "create", "update", "delete", "review"} <= kinds


def test_matrix_size(demo):
    """Count the generated cases (the plan the matrix tests run) and keep it above a floor."""
    o = demo.oracle
    plan: Counter[str] = Counter()
    sampled = demo.store.backend == "postgis" and not FULL

    def run_on(kind: str) -> list[str]:
        layers = layers_with("read" if kind == "search" else kind)
        writes = kind in ("create", "update", "delete", "review")
        return [la for la in layers if not (sampled and writes) or la in POSTGIS_WRITE_SAMPLE]

    for role in ROLES:
        for kind in ("read", "search", "update", "delete", "review"):
            plan[kind] += sum(len(o.targets(role, layer)) for layer in run_on(kind))
        plan["list"] += len(run_on("list"))
        plan["create"] += 2 * len(run_on("create"))
    plan["stats"] = 2 * len(ROLES)
    plan["tiles"] = plan["ogc"] = len(ROLES) * len(DERIVED_LAYERS + RECORD_LAYERS)
    plan["audit"] = plan["auth"] = plan["checks"] = plan["review_queue"] = len(ROLES)
    total = sum(plan.values())
    print(f"\nauthorization matrix ({demo.store.backend}): {total} cases {dict(plan)}")
    for kind, floor in (MIN_CASES_SAMPLED if sampled else MIN_CASES).items():
        assert plan[kind] >= floor, (kind, plan[kind])


def test_matrix_covers_every_cell(demo):
    """Each signed-in role meets same/other organisation × sensitivity × status in each layer."""
    wanted = set(itertools.product(("same", "other"), SENSITIVITIES, ("approved", "submitted")))
    for role, layer in itertools.product(ROLES[1:], RECORD_LAYERS):
        have = {demo.oracle.cell(role, r)[:3] for r in demo.oracle.records[layer].values()}
        assert wanted <= have, (role, layer, wanted - have)
