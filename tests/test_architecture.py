"""The layers the docs draw are the code's: a rule per layer says which layers its
modules may import (at the top or inside functions), every module is listed once in
docs/architecture.md, and nothing imports in a cycle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "xbatcher_tab"

# each private layer and the layers it may import besides itself; public modules (at
# the top of the package) may import anything, and no private module imports them
LAYERS = {
    "_core": set(),
    "_fit": {"_core"},
    "_engine": {"_core", "_fit"},
    "_xbatcher": {"_core", "_engine"},
    "_table": {"_core", "_fit", "_engine"},
    "_adapters": {"_core", "_fit", "_engine", "_table"},
}
PUBLIC = "public"


def module_name(path: Path) -> str:
    """``_core.checks``, ``tabularizer``, ``_core`` (a package's ``__init__``)."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py") if module_name(p)}


def imports(module: str, path: Path, top_only: bool = False) -> set[str]:
    """The package's modules that ``module`` imports (relative imports resolved)."""
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    known = modules()
    found = set()
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_only else ast.walk(tree)
    for node in nodes:
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = package[: len(package) - (node.level - 1)]
        target = ".".join([*base, *([node.module] if node.module else [])])
        for alias in node.names:  # `from . import x` imports the module x
            sub = f"{target}.{alias.name}" if target else alias.name
            found.add(sub if sub in known else target)
    return {m for m in found if m} - {module}


def layer(module: str) -> str:
    head = module.split(".")[0]
    return head if head in LAYERS else PUBLIC


def test_every_private_module_lives_in_a_layer():
    flat = [m for m in modules() if "." not in m and m.startswith("_") and m not in LAYERS]
    assert sorted(flat) == ["__main__", "_version"], "private code belongs to a layer"


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_a_layer_imports_only_the_layers_below_it(name):
    allowed = LAYERS[name] | {name}
    for module, path in modules().items():
        if layer(module) != name:
            continue
        wrong = {m for m in imports(module, path) if layer(m) not in allowed}
        assert not wrong, f"{module} ({name}) imports {sorted(wrong)}; {name} may import {allowed}"


def test_no_import_cycles():
    """Top-level imports form no cycle (imports inside functions may point up only
    among public modules, which the layer rule allows)."""
    graph = {m: imports(m, p, top_only=True) for m, p in modules().items()}
    done: set[str] = set()

    def visit(m: str, path: list[str]) -> None:
        if m in path:
            raise AssertionError("import cycle: " + " -> ".join([*path[path.index(m) :], m]))
        if m in done:
            return
        for n in graph.get(m, ()):
            visit(n, [*path, m])
        done.add(m)

    for m in graph:
        visit(m, [])


def test_the_architecture_page_lists_every_module_once():
    text = (ROOT / "docs/architecture.md").read_text()
    listed = re.findall(r"^\| `([\w.]+)` \|", text, re.M)
    expected = {m for m in modules() if m not in ("__main__", "_version", "__init__")}
    expected -= set(LAYERS)  # the layers have their own headings
    assert sorted(listed) == sorted(expected), "every module listed once"
    for name, below in LAYERS.items():
        rule = f"`{name}/` may import " + (
            ", ".join(f"`{b}`" for b in sorted(below)) if below else "nothing else"
        )
        assert rule in text, f"the page states the rule of {name}: {rule!r}"


def test_the_readme_links_the_architecture_page():
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()


def test_classes_stay_small():
    """The copy engine's class under 250 lines, and no class past 300 (docstrings
    included): a larger one is several ideas."""
    sizes = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                sizes[f"{module_name(path)}.{node.name}"] = node.end_lineno - node.lineno + 1
    assert sizes["_engine.copy.RowCopier"] < 250
    assert max(sizes.values()) <= 300, max(sizes, key=sizes.get)
