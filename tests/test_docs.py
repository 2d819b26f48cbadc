"""Every Python block of README.md and docs/ runs as a user would copy it.

The blocks of one file run in order in one namespace (like cells of a notebook), in a
fresh working folder, at the size they claim. A page that says so (":data:`SMALLER`")
runs on a smaller grid: there ``xbatcher_tab.datasets.tasmax`` makes at most 20
latitudes and 24 longitudes (the days stay as asked). Nothing else is changed; a block
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
# what a page says when make test runs it on a smaller grid than its examples claim
SMALLER = "`make test` runs the examples of this page on a 20 × 24 grid"


def says_smaller(path: Path) -> bool:
    return SMALLER in " ".join(path.read_text().split())


def python_blocks(path: Path) -> list[str]:
    return FENCE.findall(path.read_text())


@pytest.fixture
def small_data(monkeypatch, request):
    matplotlib.use("Agg")
    if not says_smaller(request.node.callspec.params["path"]):
        return  # the page runs at the size it claims
    full = xt.datasets.tasmax

    def small(time=60, lat=145, lon=192, **kwargs):
        return full(
            time=time, lat=min(lat, MAX_SIZES["lat"]), lon=min(lon, MAX_SIZES["lon"]), **kwargs
        )

    small.__doc__ = full.__doc__
    monkeypatch.setattr(xt.datasets, "tasmax", small)


@pytest.mark.slow
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


def test_only_heavy_pages_run_smaller():
    """The pages that say they run smaller are the heavy ones; the guide's others run
    at the size they claim."""
    smaller = sorted(p.name for p in DOCS if says_smaller(p))
    assert smaller == ["README.md", "batches.md", "dask.md"]


def test_the_readme_figures_hold_on_the_notebook_grid():
    """README's first block runs on a small grid in make test: its figures are checked
    here on the notebook grid, from metadata (no 3.75 GB table is cut)."""
    text = (ROOT / "README.md").read_text()
    rows, features = map(int, re.search(r"# \((\d+), (\d+)\) float32", text).groups())
    first_names = re.search(r"get_feature_names_out\(\)\[:2\]\s+# (\[.*?\])", text).group(1)
    ds = xt.datasets.tasmax()
    tab = xt.WindowTabularizer(
        input_dims={"lat": 9, "lon": 9, "time": 9},
        input_overlap={"lat": 8, "lon": 8, "time": 8},
        target=xt.Target("tasmax", lead={"time": 1}),
    ).fit(ds.isel(time=slice(0, 10)))
    assert (tab.count_samples(ds), tab.n_features_out_) == (rows, features)
    assert str(list(tab.get_feature_names_out()[:2])) == first_names
