"""The package's one-way layering: no module imports from a higher layer, no import cycles.

Every ``import alsstats.…`` / ``from alsstats.… import`` in the package is collected with
:mod:`ast` (function-level imports included: a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import alsstats

PACKAGE = Path(alsstats.__file__).parent

# Lower number = lower layer.  A module may import its own layer or lower ones.
LAYERS = {
    "_choices": 0, "_files": 0, "_gauss": 0, "_json": 0, "_lazy": 0, "_progress": 0,
    "_units": 0, "_version": 0, "errors": 0, "random": 0,
    "schema": 1, "dropout": 1,
    "describe": 2, "simulate": 2, "io": 2,
    "inference": 3,
    "models": 4,
    "validation": 5,
    "power": 6,
    "report": 7,
    "testing": 8, "pipeline": 8,
    "cli": 9, "__main__": 9,
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("alsstats")}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.startswith("alsstats"):
            found.add(node.module)
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    return LAYERS[top]


def test_every_top_level_module_has_a_layer():
    tops = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
            if (p.suffix == ".py" or (p / "__init__.py").exists()) and p.name != "__init__.py"}
    assert tops <= set(LAYERS), f"unlayered: {sorted(tops - set(LAYERS))}"


def test_no_module_imports_a_higher_layer():
    upward = [(mod, dep) for mod, deps in _graph().items() if mod != "alsstats"
              for dep in deps if dep != "alsstats" and _layer(dep) > _layer(mod)]
    assert not upward, "upward imports:\n" + "\n".join(f"{m} -> {d}" for m, d in upward)


def test_no_import_cycles():
    graph = _graph()
    graph = {m: {d for d in deps if d in graph and d != m} for m, deps in graph.items()}
    # A package imports its own submodules (lazily) to re-export them: not a cycle.
    graph = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep):], dep])
            elif dep not in state:
                visit(dep, [*stack, dep])
        state[node] = 2

    for mod in sorted(graph):
        if mod not in state:
            visit(mod, [mod])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_models_top_level_is_small():
    entries = [p.name for p in (PACKAGE / "models").iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 8, sorted(entries)
