"""The package's folders are its layers, and imports point downward only (README, "Layout").

Read from the source with ``ast``, so the rule holds for imports inside functions too (the lazy
ones), and a new module in the wrong place fails here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tlslab"

# Lower rank = lower layer. A module may import its own folder and any folder of lower rank;
# folders of equal rank (wire and pki) may not import each other.
RANK = {
    "": 0,  # constants, errors, rng, vectors: the ground every layer stands on
    "wire": 1,
    "pki": 1,
    "stages": 2,
    "engine": 3,
    "net": 4,
    "lab": 5,
    "top": 6,  # __init__ (the curated API) and __main__ (the CLI)
}
GROUND = {"constants", "errors", "rng", "vectors"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _layer(module: str) -> str:
    head = module.split(".")[0]
    if module in ("__init__", "__main__"):
        return "top"
    if head in GROUND:
        return ""
    assert head in RANK, f"tlslab/{head} is in no layer: add it to the layering table"
    return head


def _imports(module: str, path: Path, *, top_level_only: bool = False) -> set[str]:
    """Every tlslab module that ``module`` imports, as dotted names relative to tlslab."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    package_parts = module.split(".") if is_package else module.split(".")[:-1]
    if module in ("__init__", "__main__"):
        package_parts = []
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "tlslab":
                target = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:
                # "from ..stages import keyschedule" imports a module; otherwise the names
                # come from the module ``target`` itself.
                as_module = ".".join([*target, alias.name])
                out.add(as_module if as_module in MODULES else ".".join(target))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tlslab":
                    out.add(".".join(alias.name.split(".")[1:]))
    return {name for name in out if name}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


MODULES = _modules()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_downward(module: str) -> None:
    here = _layer(module)
    for name in _imports(module, MODULES[module]):
        target = _resolve(name, MODULES)
        if target is None or target in ("__init__",):
            continue
        there = _layer(target)
        if there == here:
            continue
        assert RANK[there] < RANK[here], (
            f"tlslab.{module} ({here or 'ground'} layer) imports tlslab.{target} "
            f"({there or 'ground'} layer): imports must point downward"
        )


def test_no_import_cycles() -> None:
    """Module-level imports form no cycle (the old messages <-> explain one included)."""
    graph = {
        module: {
            t for n in _imports(module, path, top_level_only=True) if (t := _resolve(n, MODULES))
        }
        - {module}
        for module, path in MODULES.items()
    }
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt] if nxt in stack else [node, nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_table_knows_every_folder() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders - GROUND == set(RANK) - {"", "top"}


def test_a_wrong_import_is_caught(tmp_path: Path) -> None:
    """The checker itself can fail: a wire module importing the engine is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ..engine.client import TLSClient\n")
    names = _imports("wire.bad", bad)
    assert names == {"engine.client"}
    assert RANK[_layer("engine.client")] > RANK[_layer("wire.bad")]
