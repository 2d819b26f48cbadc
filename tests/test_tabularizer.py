"""WindowTabularizer against the brute-force reference and the notebook recipe."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import xbatcher
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

import xbatcher_tab as xt
from xbatcher_tab.testing import reference_table

from .strategies import tab_case
from .support import make_tab


@given(tab_case())
def test_matches_brute_force(case):
    ds, kw = case
    X_ref, y_ref, c_ref = reference_table(ds.compute(), **kw)
    tab = make_tab(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # label-among-features warning
        X, y, coords = tab.fit(ds).tabularize(ds)
    np.testing.assert_array_equal(X, X_ref)
    assert X.dtype == np.float32
    assert X.shape[1] == len(tab.get_feature_names_out())
    if kw["target"] is None:
        assert y is None
    else:
        assert y.shape == (len(X),)
        np.testing.assert_array_equal(y, y_ref)
    pd.testing.assert_frame_equal(coords, c_ref, check_dtype=False)
    # no sample missing or repeated: ids unique and increasing, one row per anchor
    assert coords.index.is_unique and coords.index.is_monotonic_increasing
    assert not coords.duplicated().any()
    # the separate calls agree with the one-pass call
    np.testing.assert_array_equal(tab.transform(ds), X)
    pd.testing.assert_frame_equal(tab.sample_coords(ds), coords)
    if kw["target"] is not None:
        np.testing.assert_array_equal(tab.target_values(ds), y)


@given(tab_case())
def test_feature_names_unique_and_xgboost_safe(case):
    ds, kw = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        names = make_tab(kw).fit(ds).get_feature_names_out()
    assert len(set(names)) == len(names)
    assert not any(c in name for name in names for c in '[]<,:"{}')  # xgboost, LightGBM


def test_notebook_subset_equals_xbatcher_recipe():
    """The notebook's 9x9x10 windows: our rows equal, as a set, the recipe's stacked
    features from xbatcher 0.4.0, with the label at the true window center."""
    ds = xt.datasets.tasmax(time=30, lat=18, lon=18)
    sub = ds[["tasmax"]].isel(lat=slice(0, 18), lon=slice(0, 18), time=slice(0, 30))
    bgen = xbatcher.BatchGenerator(
        ds=sub,
        input_dims={"lat": 9, "lon": 9, "time": 10},
        batch_dims={"lat": 18, "lon": 18, "time": 15},
        concat_input_dims=True,
        input_overlap={"lat": 8, "lon": 8, "time": 9},
    )
    recipe = []
    for batch in bgen:
        batch = batch.transpose("input_batch", "lat_input", "lon_input", "time_input")
        features = batch.tasmax.isel(time_input=slice(0, 9))
        features = features.stack(features=["lat_input", "lon_input", "time_input"])
        labels = batch.tasmax.isel(lat_input=4, lon_input=4, time_input=9)
        recipe.append(np.column_stack([features.values, labels.values]))
    recipe = np.concatenate(recipe)

    tab = xt.WindowTabularizer(
        input_dims={"lat": 9, "lon": 9, "time": 9},
        input_overlap={"lat": 8, "lon": 8, "time": 8},
        target=xt.Target("tasmax", lead={"time": 1}),
    )
    X, y, coords = tab.fit(sub).tabularize(sub)
    ours = np.column_stack([X, y])
    assert ours.shape == recipe.shape == (2100, 730)

    def as_sorted(rows):
        return rows[np.lexsort(rows.T[::-1])]

    np.testing.assert_array_equal(as_sorted(ours), as_sorted(recipe))


def test_the_notebook_label_is_off_center():
    """The notebook picks lat_input=5 on a 9-wide window: one cell off the center (4)."""
    ds = xt.datasets.tasmax(time=12, lat=9, lon=9)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 9, "lon": 9, "time": 9}, target=xt.Target("tasmax", lead={"time": 1})
    )
    X, y, coords = tab.tabularize(ds)
    assert coords["lat"].iloc[0] == ds.lat.values[4]
    assert y[0] == ds.tasmax.isel(time=9, lat=4, lon=4).item()
    assert y[0] != ds.tasmax.isel(time=9, lat=5, lon=5).item()


def test_static_variable_and_feature_order():
    ds = xt.datasets.tasmax(time=5, lat=4, lon=4, static=True)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 2},
        input_overlap={"lat": 2, "lon": 2, "time": 1},
        variables=["tasmax", "orog"],
    )
    X = tab.fit_transform(ds)
    names = tab.get_feature_names_out()
    assert X.shape == (4 * 2 * 2, 18 + 9)
    assert names[18] == "orog(lat-1;lon-1)" and names[-1] == "orog(lat+1;lon+1)"
    # first sample: time window 0..1, lat 0..2, lon 0..2
    np.testing.assert_array_equal(X[0, 18:], ds.orog.values[:3, :3].ravel())
    np.testing.assert_array_equal(
        X[0, :18], ds.tasmax.values[:2, :3, :3].transpose(1, 2, 0).ravel()
    )


def test_to_grid_round_trip(next_day):
    ds = xt.datasets.tasmax(time=8, lat=6, lon=7)
    tab = next_day()
    X, y, coords = tab.tabularize(ds)
    grid = tab.to_grid(y, coords, like=ds)
    assert grid.dims == ("time", "lat", "lon") and grid.shape == (8, 6, 7)
    filled = grid.notnull()
    assert int(filled.sum()) == len(y)
    xr.testing.assert_equal(grid.where(filled), ds.tasmax.where(filled).astype(grid.dtype))
    # without `like`: the grid spanned by the anchors, full
    compact = tab.to_grid(y, coords)
    assert compact.shape == (5, 4, 5) and not bool(compact.isnull().any())
    with pytest.raises(ValueError, match="one value per row of coords"):
        tab.to_grid(y[:-1], coords)
    with pytest.raises(ValueError, match="are not on the grid"):
        tab.to_grid(y, coords, like=ds.isel(time=slice(0, 4)))


def test_sklearn_pipeline_ridge(next_day):
    ds = xt.datasets.tasmax(time=20, lat=12, lon=16)
    tab = next_day()
    y = tab.fit(ds).target_values(ds)
    pipe = Pipeline([("tab", clone(tab)), ("model", Ridge(alpha=1.0))]).fit(ds, y)
    pred = pipe.predict(ds)
    assert pred.shape == y.shape
    assert np.mean((pred - y) ** 2) < 0.1 * np.var(y)


def test_set_output_pandas():
    ds = xt.datasets.tasmax(time=5, lat=4, lon=4)
    tab = xt.WindowTabularizer(input_dims={"lat": 2, "lon": 2}).set_output(transform="pandas")
    df = tab.fit_transform(ds)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(tab.get_feature_names_out())
    np.testing.assert_array_equal(df.to_numpy(), tab.set_output(transform="default").transform(ds))


def test_clone_pickle_repr():
    tab = xt.WindowTabularizer(
        input_dims={"time": 3}, target=xt.Target("tasmax", lead={"time": 1}), dropna=True
    )
    assert clone(tab).get_params() == tab.get_params()
    ds = xt.datasets.tasmax(time=6, lat=3, lon=3)
    fitted = tab.fit(ds)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.transform(ds), fitted.transform(ds))
    assert "input_dims={'time': 3}" in repr(tab)
    assert not hasattr(clone(fitted), "layout_")


def test_dask_input_equals_numpy_input():
    ds = xt.datasets.tasmax(time=9, lat=20, lon=24, nan_fraction=0.1)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 2},
        input_overlap={"lat": 1, "time": 1},
        target=xt.Target("tasmax", lead={"time": 2}),
        dropna=True,
    )
    eager = tab.tabularize(ds)
    lazy = tab.tabularize(ds.chunk({"time": 4, "lat": 2}))
    np.testing.assert_array_equal(eager.X, lazy.X)
    np.testing.assert_array_equal(eager.y, lazy.y)
    pd.testing.assert_frame_equal(eager.coords, lazy.coords)
    assert 0 < len(eager.y) < tab.set_params(dropna=False).tabularize(ds).X.shape[0]


@given(tab_case(), st.data())
def test_any_id_range_gives_the_same_rows(case, data):
    """Rows for a sub-range or a shuffled subset of ids equal the full table's rows:
    the block path and the row-by-row path agree."""
    from xbatcher_tab._table.table import Table

    ds, kw = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tab = make_tab(kw).fit(ds)
    table = Table(tab.layout_, ds.compute())
    n = table.n_samples
    full = table.X(np.arange(n))
    a = data.draw(st.integers(0, n))
    b = data.draw(st.integers(a, n))
    np.testing.assert_array_equal(table.X(np.arange(a, b)), full[a:b])
    picked = data.draw(st.permutations(range(n))).copy()[: data.draw(st.integers(0, n))]
    ids = np.asarray(picked, dtype=np.int64)
    np.testing.assert_array_equal(table.X(ids), full[ids])
    out = np.full((b - a, table.n_features), -1, dtype=np.float32)
    assert table.X(np.arange(a, b), out=out) is out
    np.testing.assert_array_equal(out, full[a:b])


def test_sample_order_follows_the_first_variable_not_the_dataset():
    """A store may list variables (and so a Dataset's dims) in any order; the table's
    rows follow the first feature variable's dims, so they do not change with it."""
    ds = xt.datasets.tasmax(time=6, lat=4, lon=5, static=True)
    reordered = ds[["orog", "tasmax"]]  # dims listed as lat, lon, time
    assert list(reordered.sizes) != list(ds.sizes)
    kwargs = dict(
        input_dims={"lat": 3, "time": 2},
        variables=["tasmax", "orog"],
        target=xt.Target("tasmax", lead={"time": 1}),
    )
    a = xt.WindowTabularizer(**kwargs).tabularize(ds)
    b = xt.WindowTabularizer(**kwargs).tabularize(reordered)
    np.testing.assert_array_equal(a.X, b.X)
    pd.testing.assert_frame_equal(a.coords, b.coords)
    assert list(a.coords.columns) == ["time", "lat", "lon"]


@pytest.mark.parametrize(
    ("input_dims", "lead"),
    [({"lat": 3, "time": 2}, {"lon": 1}), ({"lat": 3}, {"time": 2}), ({"lat": 2}, {"lon": 1})],
)
def test_feature_names_say_where_each_cell_is_read(input_dims, lead):
    """Every feature's name gives its cell's offset from the anchor, the label's cell:
    reading the data at those offsets by hand gives the row. Along a lead dim that is
    not windowed, the cells sit ``lead`` before the anchor (the names left that out)."""
    ds = xt.datasets.tasmax(time=6, lat=5, lon=6)
    tab = xt.WindowTabularizer(input_dims, target=xt.Target("tasmax", lead=lead))
    X, y, coords = tab.tabularize(ds)
    names = tab.get_feature_names_out()
    for row in (0, len(X) // 2, len(X) - 1):
        anchor = {
            d: int(ds.get_index(d).get_loc(coords[d].iloc[row])) for d in ("time", "lat", "lon")
        }
        assert y[row] == ds.tasmax.isel(anchor).item()
        for k, name in enumerate(names):
            offsets = {part[:-2]: int(part[-2:]) for part in name[7:-1].split(";")}
            cell = {d: anchor[d] + offsets.get(d, 0) for d in anchor}
            assert X[row, k] == ds.tasmax.isel(cell).item(), (name, row)
