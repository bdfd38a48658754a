"""The house's layers, kept by reading every module's imports (``ast``, nothing is run):

    cli, api, console   faces: parse, call a service, shape its answer with a view (the API mounts the console)
      demo              a client of the services, like the faces (generated data, loaded)
      jobs              loops that claim, lease and call services
        services        use cases                    views   answers' shapes (domain only)
          bootstrap     the composition root: settings in, databases out
          edge          the voice edge: Kamailio's template, its runner, JSON-RPC to it
          sync          snapshot -> plan -> apply
            store       tables, repositories, migrations
              domain    plain values and pure functions
                base    errors, ids, config, logs, metrics (the recorder services call)

A layer may import itself and what ``MAY_IMPORT`` names, nothing above it. Contracts the
code still breaks are marked ``xfail(strict=True)``: once a restructure step makes one hold,
its test passes, the strict xfail fails, and the mark must go (docs/restructure-plan.md names the step).
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "lifeboat"

BASE = {"lifeboat", "lifeboat.errors", "lifeboat.ids", "lifeboat.config", "lifeboat.logs", "lifeboat.metrics"}
LAYERS = (
    "base",
    "domain",
    "store",
    "sync",
    "bootstrap",
    "edge",
    "services",
    "views",
    "jobs",
    "demo",
    "console",
    "api",
    "cli",
)
MAY_IMPORT = {
    "base": set(),
    "domain": {"base"},
    "store": {"base", "domain"},
    "sync": {"base", "domain", "store"},
    "bootstrap": {"base", "domain", "store"},
    "edge": {"base"},  # the voice edge's runner and Kamailio template: a client of the API
    "services": {"base", "domain", "store", "sync", "bootstrap", "edge"},
    "views": {"base", "domain"},  # beside the services: faces use both, no service shapes for a face
    "jobs": {"base", "domain", "store", "bootstrap", "services"},
    "demo": {"base", "domain", "bootstrap", "services"},
    "console": {"base", "domain", "bootstrap", "services", "views", "jobs"},
    "api": {"base", "domain", "bootstrap", "services", "views", "jobs", "console"},
    "cli": {"base", "domain", "bootstrap", "services", "views", "jobs", "demo", "api", "edge"},
}
UNTIL_RESTRUCTURE: dict[str, str] = {}  # layer -> the docs/restructure-plan.md step that makes its contract hold
# Imports inside functions: allowed in the CLI (each command loads only what it runs, so
# `lifeboat --help` stays fast), nowhere else; elsewhere they hide import loops.
LAZY_IMPORTS_ALLOWED = {"cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    if module in BASE:
        return "base"
    second = module.split(".")[1]
    if second == "migrations":  # Alembic trees: part of the storage layer
        return "store"
    assert second in LAYERS, f"{module} is in no layer: add its package to LAYERS"
    return second


def imports(path: Path) -> list[tuple[str, bool]]:
    """(imported lifeboat module, imported inside a function) for every import of a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                found.extend((alias.name, nested) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module, nested))
            visit(child, inner)

    visit(tree, nested=False)
    return [(name, nested) for name, nested in found if name == "lifeboat" or name.startswith("lifeboat.")]


@functools.cache
def modules() -> dict[str, list[tuple[str, bool]]]:
    return {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py")) if "static" not in p.parts}


def crossings(layer: str) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, found in modules().items()
        if layer_of(module) == layer
        for target, _ in found
        if layer_of(target) not in MAY_IMPORT[layer] | {layer}
    )


def _contract(layer: str) -> object:
    if layer in UNTIL_RESTRUCTURE:
        return pytest.param(
            layer,
            marks=pytest.mark.xfail(strict=True, reason=f"until the restructure lands: {UNTIL_RESTRUCTURE[layer]}"),
        )
    return layer


def test_every_module_belongs_to_a_layer():
    assert {layer_of(m) for m in modules()} <= set(LAYERS)


@pytest.mark.parametrize("layer", [_contract(layer) for layer in LAYERS])
def test_a_layer_imports_nothing_above_it(layer):
    assert crossings(layer) == []


def test_the_layers_form_no_loop():
    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in MAY_IMPORT[start])

    assert [layer for layer in LAYERS if reaches(layer, layer, set())] == []


def test_imports_sit_at_the_top_of_the_module_outside_the_cli():
    lazy = sorted(
        f"{module} imports {target}"
        for module, found in modules().items()
        if layer_of(module) not in LAZY_IMPORTS_ALLOWED
        for target, nested in found
        if nested
    )
    assert lazy == []


def test_services_import_each_other_without_a_loop():
    graph: dict[str, set[str]] = defaultdict(set)
    for module, found in modules().items():
        if layer_of(module) == "services":
            graph[module] |= {target for target, _ in found if layer_of(target) == "services" and target != module}
    assert _cycles(graph) == []


# Inside services/, each group (a sub-package or a top module) sits on the groups named here and,
# through them, on what those sit on (docs/restructure-plan.md §7: spanning < tenancy < alerts <
# monitor, tenancy < entities < bcp, alerts < bcp). A group imports only groups below it.
SERVICE_GROUPS_ON = {
    "spanning": set(),
    "webhook_targets": set(),
    "gauges": set(),  # reads the directory for /metrics; calls no other service
    "switch_firsts": set(),  # the first call and login after a switch: routing (bcp) and login (tenancy) stamp
    "tenancy": {"spanning", "switch_firsts"},
    "entities": {"tenancy"},
    "alerts": {"tenancy", "webhook_targets"},
    "monitor": {"alerts"},
    "bcp": {"entities", "alerts"},
}


def service_group(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 else None  # lifeboat.services itself: the map, no group


def groups_below(group: str) -> set[str]:
    below = set(SERVICE_GROUPS_ON[group])
    for lower in SERVICE_GROUPS_ON[group]:
        below |= groups_below(lower)
    return below


def rank_crossings() -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, found in modules().items()
        if layer_of(module) == "services" and (group := service_group(module))
        for target, _ in found
        if layer_of(target) == "services"
        and (other := service_group(target)) not in (None, group)
        and other not in groups_below(group)
    )


def test_every_service_module_belongs_to_a_ranked_group():
    groups = {service_group(m) for m in modules() if layer_of(m) == "services"} - {None}
    assert groups == set(SERVICE_GROUPS_ON)


def test_a_service_group_imports_only_the_groups_below_it():
    assert rank_crossings() == []


def test_the_rank_check_sees_an_import_upwards(monkeypatch):
    fake = {**modules(), "lifeboat.services.tenancy.fake": [("lifeboat.services.bcp.pairing", False)]}
    monkeypatch.setattr(sys.modules[__name__], "modules", lambda: fake)
    assert rank_crossings() == ["lifeboat.services.tenancy.fake imports lifeboat.services.bcp.pairing"]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of two or more modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_loop_finder_finds_a_loop():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("domain", ("store", "sync", "services", "api", "cli", "bootstrap", "jobs", "demo")),
        ("store", ("sync", "services", "api", "cli", "jobs", "demo", "bootstrap")),
    ],
)
def test_a_layer_imported_alone_loads_nothing_above_it(layer, forbidden):
    """What actually runs, in a fresh interpreter: importing every module of the layer."""
    names = sorted(m for m in modules() if layer_of(m) == layer and ".migrations." not in m + ".")
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        f"print(sorted({{m.split('.')[1] for m in sys.modules if m.startswith('lifeboat.')}}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert set(ast.literal_eval(out)) & set(forbidden) == set()
