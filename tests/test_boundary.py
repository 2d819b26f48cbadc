"""Windows at the data's edges: periodic dims wrap around, padded dims hang over with
NaN. Checked against the brute-force reference on the source padded by xarray."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

import xbatcher_tab as xt
from xbatcher_tab.testing import reference_table

from .strategies import tab_case
from .support import assert_rows_equal, concat_batches, make_tab


def margins(kw, d):
    """Cells a window reaches before and after the data along ``d``."""
    size = kw["input_dims"][d]
    if d in kw["lead"]:
        return size - 1, 0
    return size // 2, size - 1 - size // 2


def padded_source(ds, kw, boundary):
    """``ds`` padded by xarray: wrapped along periodic dims, NaN along padded ones."""
    ds = ds.drop_vars(list(ds.coords)).astype("float64")
    for d, kind in boundary.items():
        ds = ds.pad({d: margins(kw, d)}, mode="wrap" if kind == "periodic" else "constant")
    return ds


@st.composite
def boundaries(draw, kw):
    """A boundary for some windowed dims ("pad" only along lead dims)."""
    out = {}
    for d in kw["input_dims"]:
        kinds = ["pad"] if d in kw["lead"] else ["periodic", "pad"]
        kind = draw(st.sampled_from([None, *kinds]))
        if kind:
            out[d] = kind
    return out


@pytest.mark.slow
@given(tab_case(), st.data())
def test_boundaries_equal_windows_of_the_padded_source(case, data):
    ds, kw = case
    boundary = data.draw(boundaries(kw))
    assume(all(kw["input_dims"][d] <= ds.sizes[d] for d in boundary))
    ds = ds.drop_vars(list(ds.coords))  # anchors compared as cells
    # preprocessing inside the window sees the margins as cells (NaN or wrapped)
    prep = dict(
        center=data.draw(st.sampled_from([None, "anchor", "mean"])),
        stats=tuple(sorted(data.draw(st.sets(st.sampled_from(["mean", "std", "min", "max"]))))),
        scale=data.draw(st.booleans()),
    )
    tab = make_tab(kw, boundary=boundary, **prep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        X, y, coords = tab.fit(ds).tabularize(ds)
    X_ref, y_ref, c_ref = reference_table(
        padded_source(ds.compute(), kw, boundary),
        **kw,
        center=prep["center"],
        stats=prep["stats"],
        scaling=tab.layout_.scaling,
    )
    assert_rows_equal(X, X_ref)
    if y is not None:
        np.testing.assert_array_equal(y, y_ref)
    shifted = c_ref.copy()
    for d in boundary:
        shifted[d] = shifted[d] - margins(kw, d)[0]
    np.testing.assert_array_equal(coords[list(shifted.columns)].to_numpy(), shifted.to_numpy())
    # batches (any size, shuffled or not) and dask blocks cut from any chunking
    size = data.draw(st.integers(1, max(1, len(X))))
    shuffle = data.draw(st.booleans())
    chunked = ds.chunk({d: data.draw(st.integers(1, n)) for d, n in ds.sizes.items()})
    batches = list(tab.iter_batches(chunked, batch_size=size, shuffle=shuffle, random_state=0))
    if len(X):
        Xb, _, cb = concat_batches(batches)
        assert_rows_equal(Xb, X[coords.index.get_indexer(cb.index)])
    dX, _, dcoords = tab.to_dask(chunked)
    assert_rows_equal(dX.compute(), X)


@pytest.mark.parametrize("kind", ["periodic", "pad"])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_every_cell_anchors_a_sample(kind, stride):
    """Along a periodic or padded dim the anchors are every cell at the stride, so a
    map predicted from them has no empty strip."""
    ds = xt.datasets.tasmax(time=4, lat=6, lon=10)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 5},
        input_overlap={"lat": 2, "lon": 5 - stride},
        boundary={"lon": kind, "lat": "pad"},
    )
    _, _, coords = tab.tabularize(ds)
    assert coords.lon.unique().tolist() == ds.lon.values[::stride].tolist()
    assert coords.lat.unique().tolist() == ds.lat.values.tolist()
    assert len(coords) == 4 * 6 * len(range(0, 10, stride))


def test_pad_along_a_lead_dim_starts_early_and_invents_no_label():
    ds = xt.datasets.tasmax(time=8, lat=3, lon=4)
    tab = xt.WindowTabularizer(
        input_dims={"time": 4},
        input_overlap={"time": 3},
        target=xt.Target("tasmax", lead={"time": 2}),
        boundary={"time": "pad"},
    )
    X, y, coords = tab.tabularize(ds)
    # labels from the lead-th day (window all but one cell padded) to the last day
    assert coords.time.unique().tolist() == ds.time.values[2:].tolist()
    first = X[coords.time == ds.time.values[2]]
    assert np.isnan(first[:, :3]).all() and not np.isnan(first[:, 3]).any()
    np.testing.assert_array_equal(
        y,
        ds.tasmax.sel(
            time=coords.time.to_xarray(), lat=coords.lat.to_xarray(), lon=coords.lon.to_xarray()
        ).values,
    )
    # without the target in the data: forecasts past the end, from the same first label
    two = ds.assign(x=ds.tasmax)
    tab = xt.WindowTabularizer(
        input_dims={"time": 4},
        input_overlap={"time": 3},
        variables=["x"],
        target=xt.Target("tasmax", lead={"time": 2}),
        boundary={"time": "pad"},
    ).fit(two)
    _, _, ahead = tab.tabularize(two[["x"]])
    days = pd.DatetimeIndex(ahead.time.unique())
    assert days[0] == ds.time.values[2]
    assert days[-1] == pd.Timestamp(ds.time.values[-1]) + pd.Timedelta(days=2)


def test_periodic_longitude_predicts_the_whole_map(next_day):
    """xt.predict with a periodic longitude fills every column of the map, numpy and
    dask (the slabs cut along time, the margin wrapped within each slab)."""
    ds = xt.datasets.tasmax(time=12, lat=6, lon=16)
    tab = next_day(boundary={"lon": "periodic", "lat": "pad"})
    X, y, _ = tab.tabularize(ds)
    model = make_pipeline(SimpleImputer(), Ridge(solver="lsqr")).fit(X, y)
    eager = xt.predict(model, tab, ds)
    lazy = xt.predict(model, tab, ds.chunk(time=5))
    valid = eager.isel(time=slice(3, 12))
    assert not valid.isnull().any()
    xr.testing.assert_allclose(lazy.compute(), eager)


def test_periodic_outermost_dim_is_read_whole():
    """A periodic dim that is the outermost sample dim: slabs cannot wrap, so it is
    one slab; the rows still equal the in-memory table."""
    ds = xt.datasets.tasmax(time=3, lat=5, lon=12).transpose("lon", "lat", "time")
    tab = xt.WindowTabularizer(
        input_dims={"lon": 5}, input_overlap={"lon": 4}, boundary={"lon": "periodic"}
    )
    X, _, coords = tab.tabularize(ds)
    assert coords.columns[0] == "lon" and coords.lon.nunique() == 12
    dX, _, _ = tab.to_dask(ds.chunk(lon=4))
    np.testing.assert_array_equal(dX.compute(), X)
    Xb, _, _ = concat_batches(list(tab.iter_batches(ds.chunk(lon=4), batch_size=7)))
    np.testing.assert_array_equal(Xb, X)


@pytest.mark.parametrize(
    ("boundary", "error", "match"),
    [
        ({"time": "periodic"}, ValueError, "lead dim 'time'.*use 'pad'"),
        ({"lev": "pad"}, ValueError, "boundary names dimension 'lev'.*input_dims"),
        (
            {"lon": "wrap"},
            ValueError,
            "boundary\\['lon'\\] must be 'periodic' or 'pad', got 'wrap'",
        ),
        (["lon"], TypeError, "boundary must be a mapping"),
    ],
)
def test_bad_boundaries_are_named(boundary, error, match):
    ds = xt.datasets.tasmax(time=6, lat=4, lon=6)
    tab = xt.WindowTabularizer(
        input_dims={"lon": 3, "time": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
        boundary=boundary,
    )
    with pytest.raises(error, match=match):
        tab.fit(ds)


def test_pad_needs_a_float_dtype():
    ds = xt.datasets.tasmax(time=4, lat=4, lon=6)
    tab = xt.WindowTabularizer(input_dims={"lon": 3}, boundary={"lon": "pad"}, dtype="int32")
    with pytest.raises(ValueError, match="NaN, which dtype int32 cannot hold; use a float dtype"):
        tab.fit(ds)


def test_pad_with_dropna_keeps_only_windows_inside():
    ds = xt.datasets.tasmax(time=4, lat=5, lon=6)
    kw = dict(input_dims={"lat": 3, "lon": 3})
    inside = xt.WindowTabularizer(**kw, input_overlap={"lat": 2, "lon": 2}).fit_transform(ds)
    padded = xt.WindowTabularizer(
        **kw,
        input_overlap={"lat": 2, "lon": 2},
        boundary={"lat": "pad", "lon": "pad"},
        dropna=True,
    )
    assert padded.fit_transform(ds).shape == inside.shape
    assert pd.Index(padded.get_feature_names_out()).is_unique


def test_no_block_split_along_a_periodic_dim():
    ds = xt.datasets.tasmax(time=4, lat=4, lon=12)
    tab = xt.WindowTabularizer(
        input_dims={"lon": 3}, input_overlap={"lon": 2}, boundary={"lon": "periodic"}
    )
    X, _, coords = tab.tabularize(ds)
    cv = xt.WindowBlockSplit(tab, n_splits=3, dim="lon", coord=ds["lon"])
    with pytest.raises(ValueError, match="cannot split along 'lon': it is periodic"):
        list(cv.split(X, None, coords))
