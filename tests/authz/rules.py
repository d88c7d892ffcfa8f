"""The rules as the issue states them (not as demine implements them), and the routes they
apply to: every route of the OpenAPI document gets a rule (see tests/authz/__init__.py)."""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from pathlib import Path

from demine.settings import Settings, sqlite_url
from demine.web.app import create_app

# --- The rules, as the issue states them (not as demine implements them) ---------------------

ROLES = ("anonymous", "admin", "authority", "operator", "reporter", "inspector", "viewer")
RECORD_LAYERS = ("hazards", "activities", "eo_finds", "accidents", "casualties",
                 "eore_sessions", "qa_inspections")
CHILD_LAYERS = {"eore_beneficiaries": ("session_id", "eore_sessions"),
                "non_conformities": ("inspection_id", "qa_inspections")}
REFERENCE_LAYERS = ("organisations", "teams", "admin_areas", "places", "terrain_lines",
                    "eo_models")
ALL_LAYERS = (*RECORD_LAYERS, *CHILD_LAYERS, *REFERENCE_LAYERS)
POINT_LAYERS = frozenset({"eo_finds", "accidents", "eore_sessions", "places"})
# Need-to-know records with no /api/v1 route of their own (read through tiles and OGC API).
DERIVED_LAYERS = ("land_releases",)
# Records seen exactly where their parent is (a land release where its activity is).
DERIVED_PARENT = {"land_releases": ("activity_id", "activities")}
# Records with need-to-know columns of their own that are seen only where their parent is too.
PARENT_LAYERS = {"casualties": ("accident_id", "accidents")}
# Records made on a hazard: only by its owner, the authority or an organisation tasked on it.
ON_HAZARD = ("activities", "eo_finds")
# PostGIS runs every read case but writes only on these layers (a record layer with personal
# data, a QA layer, a child layer and a reference layer); DEMINE_AUTHZ_FULL=1 runs them all.
POSTGIS_WRITE_SAMPLE = frozenset({"hazards", "casualties", "qa_inspections",
                                  "eore_beneficiaries", "teams"})
FULL = os.environ.get("DEMINE_AUTHZ_FULL") == "1"
FIELD_LAYERS = frozenset({"hazards", "activities", "eo_finds", "accidents", "casualties",
                          "eore_sessions", "eore_beneficiaries"})
QA_LAYERS = frozenset({"qa_inspections", "non_conformities"})
PERSONAL_FIELDS = ("full_name", "contact", "exact_age", "address")
PERSONAL_GRANT = "casualty-personal"
SENSITIVITIES = ("public", "shared", "restricted", "confidential")
STATUSES = ("approved", "submitted", "rejected")
DESTROYED = ("destroyed_in_situ", "removed", "rendered_safe")
LEDGER = ("baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2")
# References to need-to-know records (a body may only name ones the caller sees).
REFS = {"hazard_id": "hazards", "activity_id": "activities", "accident_id": "accidents",
        "session_id": "eore_sessions", "inspection_id": "qa_inspections"}
EXTRA = {"hazards": LEDGER, "eo_finds": ("category", "quantity", "disposal"),
         "casualties": PERSONAL_FIELDS,
         "eore_beneficiaries": ("sex", "age_band", "disability")}
DEMO_DOMAIN = "demo.demine.org"
# Floors for the generated case counts (the demo is seeded, so the plan is stable).
MIN_CASES = {"read": 800, "search": 800, "list": 100, "update": 800, "delete": 800,
             "review": 700, "create": 150, "tiles": 50, "ogc": 50}
MIN_CASES_SAMPLED = {**MIN_CASES, "update": 250, "delete": 250, "review": 200, "create": 50}


# --- Routes and their rules ---------------------------------------------------------------

def _spec() -> dict:
    """The OpenAPI document (building the app touches no store)."""
    url = sqlite_url(Path(tempfile.gettempdir()) / f"demine-openapi-{uuid.uuid4().hex}.gpkg")
    return create_app(Settings(database_url=url)).openapi()


SPEC = _spec()
FIXED_RULES = {
    ("/api/v1/auth/token", "post"): "auth", ("/api/v1/auth/login", "post"): "auth",
    ("/api/v1/auth/logout", "post"): "auth", ("/api/v1/auth/me", "get"): "auth",
    ("/api/v1/stats", "get"): "stats", ("/api/v1/audit", "get"): "audit",
    ("/api/v1/checks", "get"): "checks", ("/api/v1/review-queue", "get"): "review_queue",
    ("/api/v1/hazards/{record_id}/taskings", "get"): "taskings",
    ("/api/v1/hazards/{record_id}/taskings", "post"): "taskings",
    ("/api/v1/hazards/{record_id}/taskings/{organisation}", "delete"): "taskings",
    ("/healthz", "get"): "health",
    ("/tiles/{layer}.json", "get"): "tiles", ("/tiles/{layer}/{z}/{x}/{y}.pbf", "get"): "tiles",
}
LAYER_ROUTE = re.compile(r"^/api/v1/(?P<layer>[a-z_0-9]+)(?P<item>/\{record_id\})?"
                         r"(?P<review>/review)?$")
LAYER_KINDS = {(False, False, "get"): "list", (False, False, "post"): "create",
               (True, False, "get"): "read", (True, False, "patch"): "update",
               (True, False, "delete"): "delete", (True, True, "post"): "review"}


def rule_of(path: str, method: str) -> tuple[str, str | None] | None:
    """(rule, layer) of a route, or None when the matrix has no rule for it."""
    if (path, method) in FIXED_RULES:
        return FIXED_RULES[path, method], None
    match = LAYER_ROUTE.match(path)
    if not match or match["layer"] not in ALL_LAYERS:
        return None
    kind = LAYER_KINDS.get((bool(match["item"]), bool(match["review"]), method))
    if kind == "review" and match["layer"] not in RECORD_LAYERS:
        return None  # only versioned need-to-know records are reviewed
    return (kind, match["layer"]) if kind else None


ROUTES = {(path, method): rule_of(path, method)
          for path, ops in SPEC["paths"].items() for method in ops
          if method in ("get", "post", "put", "patch", "delete")}


def layers_with(kind: str) -> list[str]:
    """Layers that have a route of this kind in the OpenAPI document."""
    return sorted({r[1] for r in ROUTES.values() if r and r[0] == kind})


def _schema_props(path: str, method: str) -> frozenset[str]:
    body = SPEC["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[1]
    return frozenset(SPEC["components"]["schemas"][name]["properties"])


CREATE_PROPS = {layer: _schema_props(f"/api/v1/{layer}", "post") for layer in layers_with("create")}
UPDATE_PROPS = {layer: _schema_props(f"/api/v1/{layer}/{{record_id}}", "patch")
                for layer in layers_with("update")}
