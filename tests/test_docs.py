"""Every Python block of README.md and docs/ runs as a user would copy it.

The blocks of one file run in order in one namespace (like cells of a notebook), in a
fresh working folder. One substitution keeps them quick: ``xbatcher_tab.datasets.tasmax``
makes at most 20 latitudes and 24 longitudes (the days stay as asked), so a block that
cuts the notebook-sized grid runs on a small one. Nothing else is changed; a block
fenced as ``python no-run`` is skipped (none is today).
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

import xbatcher_tab as xt

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
MAX_SIZES = {"lat": 20, "lon": 24}


def python_blocks(path: Path) -> list[str]:
    return FENCE.findall(path.read_text())


@pytest.fixture
def small_data(monkeypatch):
    full = xt.datasets.tasmax

    def small(time=60, lat=145, lon=192, **kwargs):
        return full(
            time=time, lat=min(lat, MAX_SIZES["lat"]), lon=min(lon, MAX_SIZES["lon"]), **kwargs
        )

    small.__doc__ = full.__doc__
    monkeypatch.setattr(xt.datasets, "tasmax", small)
    matplotlib.use("Agg")


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_python_blocks_run(path, small_data, tmp_path, monkeypatch):
    blocks = python_blocks(path)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{path.stem}"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{path.name}[block {i}]", "exec"), namespace)
        except Exception as err:
            raise AssertionError(f"{path.name}, block {i} fails:\n{block}") from err


def test_every_doc_page_is_checked():
    assert ROOT / "README.md" in DOCS and len(DOCS) >= 10
    assert sum(len(python_blocks(p)) for p in DOCS) >= 15
