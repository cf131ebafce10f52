"""The package's shape, read from the source with ast: layers import only downward, no cycles, small modules.

Layers, top to bottom: cli, training, evaluation, inference, then plugins and store (side by side,
neither importing the other), then core. Imports inside functions count. The package root
(``gantool/__init__.py``) is the public face above them all: no sub-package imports it.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import gantool

PACKAGE = Path(gantool.__file__).parent
LAYERS = {"cli": 5, "training": 4, "evaluation": 3, "inference": 2, "plugins": 1, "store": 1, "core": 0}
TOP = 6  # gantool/__init__.py and __main__.py
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 300, 80


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], TOP) if len(parts) > 1 else TOP


def imports(path: Path, module: str, modules: set[str]) -> set[str]:
    """The gantool modules ``path`` imports, at any depth of its code, resolved to modules that exist."""
    found = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def shape(root: Path) -> tuple[list[str], list[list[str]], list[str]]:
    """(upward imports, import cycles, oversized modules and functions) of the package at ``root``."""
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    graph = {m: imports(p, m, set(files)) for m, p in files.items()}
    upward = []
    for m, targets in sorted(graph.items()):
        for t in sorted(targets):
            same_package = m.split(".")[:2] == t.split(".")[:2]
            if not same_package and (layer(t) > layer(m) or (layer(t) == layer(m) and layer(m) != TOP)):
                upward.append(f"{m} imports {t}")
    sizes = []
    for m, p in files.items():
        lines = p.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_MODULE_LINES:
            sizes.append(f"{m}: {len(lines)} lines")
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                sizes.append(f"{m}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    return upward, cycles(graph), sizes


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_layers_import_only_downward_without_cycles_in_small_modules():
    upward, loops, sizes = shape(PACKAGE)
    assert upward == []
    assert loops == []
    assert sizes == []


def test_the_check_fails_on_an_upward_import_and_on_a_cycle(tmp_path):
    copy = tmp_path / "gantool"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "data"))
    errors = copy / "core" / "errors.py"
    errors.write_text(errors.read_text() + "\n\ndef late():\n    from gantool.training.run import train\n\n    return train\n")
    upward, loops, _ = shape(copy)
    assert upward == ["gantool.core.errors imports gantool.training.run"]
    assert loops and any("gantool.core.errors" in loop for loop in loops)  # training imports core.errors: now a cycle
    sibling = copy / "store" / "lock.py"
    sibling.write_text(sibling.read_text() + "\nimport gantool.plugins.registry\n")
    assert "gantool.store.lock imports gantool.plugins.registry" in shape(copy)[0]


def test_each_sub_package_has_tests_of_its_own():
    tests = Path(__file__).parent
    for package in LAYERS:
        assert list((tests / package).glob("test_*.py")), f"tests/{package}/ has no tests"
