"""The layout the docs draw is the code's: every module is listed once, in
docs/architecture.md and in the README, and imports only modules listed above it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "xbatcher_tab"
UNLISTED = {"__init__", "__main__", "_version"}


def imports(module: str) -> set[str]:
    """The package's modules that ``module`` imports, at the top or inside functions."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [a.name for a in node.names]
            found |= {name.split(".")[0] for name in names}
    return found - {module}


def architecture_order() -> list[str]:
    rows = re.findall(r"^\| (`[^|]+`) \|", (ROOT / "docs/architecture.md").read_text(), re.M)
    return [name for row in rows for name in re.findall(r"`(\w+)`", row)]


def readme_order() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Layout") :]
    end = section.find("\n## ", 1)
    return re.findall(r"`(\w+)\.py`", section if end < 0 else section[:end])


@pytest.mark.parametrize("order", [architecture_order, readme_order], ids=["docs", "readme"])
def test_the_documented_layout_is_the_import_order(order):
    listed = order()
    modules = {p.stem for p in PACKAGE.glob("*.py")} - UNLISTED
    assert sorted(listed) == sorted(modules), "every module listed once"
    for i, module in enumerate(listed):
        below = imports(module) & set(listed[i:])
        assert not below, f"{module} imports {sorted(below)}, listed below it"
