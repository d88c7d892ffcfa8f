"""The shape of the code: no import cycle, every module imports on its own, every layer that
has write rules gets them whatever was imported first.

An import cycle is how the ledger could be switched off: when ``records`` imported its rule
modules lazily, a layer's hooks depended on what had been imported before. The rules are now
registered in one place (``services/records/rules.py``); these tests keep it that way.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping

import demine
from demine.services.records.activities import ActivityHooks
from demine.services.records.finds import FindHooks
from demine.services.records.hazards import HazardHooks
from demine.services.records.hooks import Hooks
from demine.services.records.rules import HOOKS, hooks_for
from demine.settings import Settings
from demine.web.app import create_app

PACKAGE = Path(demine.__file__).parent
# Modules that are scripts, not imports: running them is their whole job.
SCRIPTS = {
    "demine.__main__": "runs the command line (python -m demine)",
    "demine.storage.migrations.env": "run by Alembic, which provides alembic.context.config",
}
# The layers whose writes have rules of their own, and the class that holds them.
RULES = {"hazards": HazardHooks, "activities": ActivityHooks, "eo_finds": FindHooks}


def _modules() -> dict[str, Path]:
    """Every module under src/demine by dotted name (a package by its __init__.py)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


# --- every module imports on its own -----------------------------------------------------

# Run in one fresh interpreter: for each module, forget every demine module, import that one
# first, then check what must not depend on import order (the hooks of each layer with rules,
# the order the tables are registered and created in).
_WALK = """
import importlib, json, sys, traceback
names, rules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
report = {}
for name in names:
    for loaded in [m for m in sys.modules if m == "demine" or m.startswith("demine.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
        from demine.services.records import crud as records
        from demine.storage.tables import metadata
        hooks = {layer: type(records.hooks_for(layer)).__name__ for layer in rules}
        report[name] = {"hooks": hooks, "tables": list(metadata.tables)}
    except BaseException:
        report[name] = {"error": traceback.format_exc(limit=-3)}
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def imported_alone() -> dict[str, dict]:
    """For each module imported first in a clean interpreter: what it raised, or the hooks and
    the table order seen afterwards."""
    names = [name for name in _modules() if name not in SCRIPTS]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE.parent), *sys.path])}
    rules = {layer: cls.__name__ for layer, cls in RULES.items()}
    done = subprocess.run([sys.executable, "-c", _WALK, json.dumps(names), json.dumps(rules)],
                          capture_output=True, text=True, env=env, timeout=600,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_module_imports_on_its_own(imported_alone):
    failed = {name: seen["error"] for name, seen in imported_alone.items() if "error" in seen}
    assert not failed, "\n".join(f"{name}:\n{error}" for name, error in failed.items())
    assert set(imported_alone) == set(_modules()) - set(SCRIPTS)


def test_each_layer_gets_its_rules_whatever_is_imported_first(imported_alone):
    expected = {layer: cls.__name__ for layer, cls in RULES.items()}
    wrong = {name: seen["hooks"] for name, seen in imported_alone.items()
             if "hooks" in seen and seen["hooks"] != expected}
    assert not wrong, f"{len(wrong)} modules, e.g. {next(iter(wrong.items()), None)}"


def test_tables_are_registered_in_one_order_whatever_is_imported_first(imported_alone):
    from demine.storage.tables import metadata

    orders = {tuple(seen["tables"]) for seen in imported_alone.values() if "tables" in seen}
    assert orders == {tuple(metadata.tables)}


# --- no import cycle ---------------------------------------------------------------------

def _imports_at_module_level(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The demine modules ``name`` imports when it is loaded (not inside functions nor under
    ``if TYPE_CHECKING``). ``from pkg import x`` is an edge to ``pkg.x`` if that is a module,
    else to ``pkg``. A package's own __init__ is not counted for its submodules: that Python
    loads it first is no dependency of the submodule's."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    found: set[str | None] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit_all(child.orelse)
                continue
            if isinstance(child, ast.Import):
                found.update(owner(alias.name) for alias in child.names
                             if alias.name.split(".")[0] == "demine")
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    source = ".".join(base + ([child.module] if child.module else []))
                else:
                    source = child.module or ""
                if source.split(".")[0] == "demine":
                    for alias in child.names:
                        full = f"{source}.{alias.name}"
                        found.add(full if full in modules else owner(source))
            visit(child)

    def visit_all(nodes: list[ast.AST]) -> None:
        for node in nodes:
            visit(ast.Module(body=[node], type_ignores=[]))

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return {m for m in found if m and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a cycle
    path through it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(_path_through(graph, set(component)))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for v in sorted(graph):
        if v not in index:
            connect(v)
    return components


def _path_through(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """One cycle inside a strongly connected component, for the failure message."""
    start = min(component)
    path, seen = [start], {start}
    while True:
        step = min(w for w in graph[path[-1]] if w in component)
        if step in seen:
            return path[path.index(step):] + [step]
        path.append(step)
        seen.add(step)


def test_no_import_cycle_at_module_level():
    modules = _modules()
    graph = {name: _imports_at_module_level(name, path, modules) & set(modules)
             for name, path in modules.items()}
    # the walk sees edges
    assert graph["demine.services.records.crud"] >= {"demine.services.records.rules"}
    cycles = _cycles(graph)
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# --- the rules registry ------------------------------------------------------------------

def _hooks_classes() -> set[type]:
    """Every Hooks subclass defined in a module under demine.services."""
    found = set()
    for name in _modules():
        if name.startswith("demine.services."):
            module = importlib.import_module(name)
            found |= {obj for _, obj in inspect.getmembers(module, inspect.isclass)
                      if issubclass(obj, Hooks) and obj is not Hooks
                      and obj.__module__ == module.__name__}
    return found


def test_every_hooks_class_is_registered_once_and_layers_with_rules_get_theirs():
    registered = [type(hooks) for hooks in HOOKS.values()]
    assert sorted(registered, key=repr) == sorted(_hooks_classes(), key=repr)
    assert len(set(registered)) == len(registered)
    for layer, cls in RULES.items():
        assert type(hooks_for(layer)) is cls, layer
    assert type(hooks_for("accidents")) is Hooks


# --- behaviour: an approved release is booked on the ledger ------------------------------

PASSWORD = "correct horse battery staple"


def test_an_approved_release_through_the_api_is_booked_on_the_ledger(cli, store_url):
    """The activity and hazard hooks at work on a fresh store: a submitted clearance moves
    nothing; once the authority approves it, the hazard's ledger counts the cleared ground."""
    for code, kind in (("NMAA", "authority"), ("OPA", "operator")):
        assert cli("org", "add", "--code", code, "--name", code, "--kind", kind).exit_code == 0
    headers = {}
    for who, org, role in (("admin", "NMAA", "admin"), ("authority", "NMAA", "authority"),
                           ("opa", "OPA", "operator")):
        added = cli("user", "add", "--email", f"{who}@t.org", "--org", org, "--role", role,
                    "--password-stdin", input=PASSWORD + "\n")
        assert added.exit_code == 0, added.output
        token = cli("token", "create", "--email", f"{who}@t.org", "--scope", "read",
                    "--scope", "write", "--json")
        assert token.exit_code == 0, token.output
        headers[who] = {"Authorization": f"Bearer {json.loads(token.stdout)['token']}"}
    app = create_app(Settings(database_url=store_url))
    try:
        with TestClient(app, raise_server_exceptions=False) as api:
            square = box(30.50, 50.40, 30.502, 50.402)
            hazard = api.post("/api/v1/hazards", headers=headers["admin"], json={
                "hazard_type": "CHA", "reported_on": "2025-05-02", "organisation_id": "OPA",
                "sensitivity": "public", "geometry": mapping(square)})
            assert hazard.status_code == 201, hazard.text
            path = f"/api/v1/hazards/{hazard.json()['id']}"
            west = box(30.50, 50.40, 30.501, 50.402)
            posted = api.post("/api/v1/activities", headers=headers["opa"], json={
                "hazard_id": hazard.json()["id"], "kind": "clearance", "status": "completed",
                "start_date": "2025-06-01", "end_date": "2025-06-20", "sensitivity": "shared",
                "geometry": mapping(west), "released_geometry": mapping(west)})
            assert posted.status_code == 201, posted.text
            assert posted.json()["released_m2"] > 0  # the activity's rules derived it
            assert api.get(path, headers=headers["admin"]).json()["cleared_m2"] == 0

            activity = f"/api/v1/activities/{posted.json()['id']}"
            etag = api.get(activity, headers=headers["admin"]).headers["ETag"]
            approved = api.post(f"{activity}/review", json={"decision": "approve"},
                                headers={**headers["authority"], "If-Match": etag})
            assert approved.status_code == 200, approved.text
            booked = api.get(path, headers=headers["admin"]).json()
            assert booked["cleared_m2"] == pytest.approx(posted.json()["released_m2"])
            assert booked["status"] == "worked_on"
            assert booked["remaining_m2"] + booked["cleared_m2"] == pytest.approx(
                booked["baseline_m2"])
    finally:
        app.state.database.dispose()


# --- one place answers "may this actor do this?" ------------------------------------------

# The rules (domain.permissions) and the two questions asked of them (services.access:
# visible() for reads, require()/allowed() for actions) are the only modules that read an
# actor's role, organisation kind, scopes or grants to decide what it may do.
RULE_MODULES = {"demine.domain.actors", "demine.domain.permissions",
                "demine.services.access.permissions", "demine.services.access.require"}
ROLE_ATTRIBUTES = {"is_admin", "at_authority", "role", "roles", "organisation_kind", "scopes",
                   "grants", "is_anonymous"}
# Reads of them elsewhere that decide nothing about rights, each with why.
NOT_RULES = {
    ("demine.web.deps", "is_anonymous"):
        "writes need someone signed in: authentication (401), before the body is read",
    ("demine.web.deps", "PermissionDenied"):
        "a missing CSRF token, HTTP Basic from another site: the request's integrity",
    ("demine.web.api.auth", "role"): "/me reports who the request acts as",
    ("demine.web.api.auth", "scopes"): "/me reports them; a sign-in's token keeps the user's",
    ("demine.web.api.auth", "is_anonymous"): "/me reports it; only a signed-in session is "
                                             "revoked on logout",
    ("demine.web.tiles", "is_anonymous"): "Cache-Control: public caching only of anonymous "
                                          "tiles",
    ("demine.web.ui.pages", "is_anonymous"): "the sign-in form sends a signed-in user on",
    ("demine.web.ui.pages", "scopes"): "a session from the form keeps the user's scopes",
    ("demine.web.ui.forms", "is_anonymous"): "the edit form sends a visitor who is not signed "
                                             "in to the sign-in form",
    ("demine.web.ui.review", "is_anonymous"): "the review pages send a visitor who is not "
                                              "signed in to the sign-in form",
    ("demine.web.ui.render", "is_anonymous"): "the top bar shows sign-in or the user's menu",
    ("demine.web.ui.render", "role"): "the top bar names the user's role",
}


def _role_checks() -> dict[tuple[str, str], list[int]]:
    """(module, what) → lines, for every read of an actor's role attributes and every
    PermissionDenied raised outside the rule modules."""
    found: dict[tuple[str, str], list[int]] = {}
    for name, path in _modules().items():
        if name in RULE_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Attribute) and node.attr in ROLE_ATTRIBUTES and \
                    "actor" in ast.unparse(node.value).lower():
                found.setdefault((name, node.attr), []).append(node.lineno)
            elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith(
                    "PermissionDenied"):
                found.setdefault((name, "PermissionDenied"), []).append(node.lineno)
    return found


def test_permission_is_decided_only_through_require_and_visible():
    found = _role_checks()
    outside = {f"{module}:{sorted(lines)} {what}" for (module, what), lines in found.items()
               if (module, what) not in NOT_RULES}
    assert not outside, "decide through services.access.require (rules in " \
        "domain.permissions): " + "; ".join(sorted(outside))
    stale = set(NOT_RULES) - set(found)
    assert not stale, f"exemptions no longer needed: {sorted(stale)}"


def _actions_asked() -> dict[str, list[str]]:
    """Action name → modules that ask require() or allowed() about it (literal names)."""
    asked: dict[str, list[str]] = {}
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in (
                    "require", "allowed", "refusal") and len(node.args) >= 2 and \
                    isinstance(node.args[1], ast.Constant) and \
                    isinstance(node.args[1].value, str):
                asked.setdefault(node.args[1].value, []).append(name)
    return asked


def test_every_action_asked_has_a_rule_and_every_rule_is_asked():
    from demine.domain.permissions import RULES

    asked = _actions_asked()
    assert "record.update" in asked  # the walk sees the calls
    unknown = {action: modules for action, modules in asked.items() if action not in RULES}
    assert not unknown, f"actions without a rule in domain.permissions.RULES: {unknown}"
    assert set(RULES) <= set(asked), f"rules nobody asks: {sorted(set(RULES) - set(asked))}"
