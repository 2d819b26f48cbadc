"""to_dask: lazy, chunked by rows, equal to tabularize; xgboost.dask on a LocalCluster."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xbatcher_tab as xt

from .strategies import tab_case
from .support import computed as computed_coords
from .support import make_tab, raise_if_dask_computes


@pytest.mark.slow
@given(tab_case(), st.data())
def test_to_dask_equals_tabularize(case, data):
    ds, kw = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tab = make_tab(kw).fit(ds)
    if data.draw(st.booleans()):  # uneven chunks
        ds = ds.chunk({d: tuple(_split(n, data)) for d, n in ds.sizes.items()})
    X, y, coords = tab.tabularize(ds)
    dX, dy, dcoords = tab.to_dask(ds)
    assert dX.chunks[1] == (X.shape[1],)  # one chunk along features
    np.testing.assert_array_equal(dX.compute(), X)
    if y is None:
        assert dy is None
    else:
        np.testing.assert_array_equal(dy.compute(), y)
    pd.testing.assert_frame_equal(computed_coords(dcoords), coords, check_index_type=False)


def _split(n, data):
    sizes = []
    while n:
        k = data.draw(st.integers(1, n))
        sizes.append(k)
        n -= k
    return sizes


def test_building_the_graph_computes_nothing():
    ds = xt.datasets.tasmax(time=30, lat=10, lon=12, chunks={"time": (7, 11, 12)})
    for dropna in (False, True):
        tab = xt.WindowTabularizer(
            input_dims={"lat": 3, "lon": 3, "time": 4},
            input_overlap={"lat": 2, "lon": 2, "time": 3},
            target=xt.Target("tasmax", lead={"time": 1}),
            dropna=dropna,
        )
        with raise_if_dask_computes():
            tab.fit(ds)
            X, y, coords = tab.to_dask(ds)
        assert X.numblocks == (3, 1)
        if dropna:
            assert np.isnan(X.chunks[0][0])  # sizes known only once computed
    np.testing.assert_array_equal(X.compute(), tab.transform(ds))


def test_task_count_grows_with_chunks_not_samples():
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "time": 3}, target=xt.Target("tasmax", lead={"time": 1})
    )

    def n_tasks(time, lat, chunks):
        ds = xt.datasets.tasmax(time=time, lat=lat, lon=8, chunks={"time": chunks})
        X, y, _ = tab.fit(ds).to_dask(ds)
        return len(dict(X.__dask_graph__()))

    small = n_tasks(40, 6, 10)
    more_samples = n_tasks(80, 40, 20)  # ~13x the samples, the same 4 chunks
    more_chunks = n_tasks(80, 6, 10)  # twice the chunks
    assert more_samples == small
    assert more_chunks > small


def test_numpy_input_is_cut_in_blocks():
    ds = xt.datasets.tasmax(time=20, lat=30, lon=40)
    tab = xt.WindowTabularizer(input_dims={"time": 2}).fit(ds)
    X, _, coords = tab.to_dask(ds)
    assert X.shape == (10 * 30 * 40, 2)
    np.testing.assert_array_equal(X.compute(), tab.transform(ds))
    pd.testing.assert_frame_equal(coords, tab.sample_coords(ds))


@pytest.mark.slow
def test_xgboost_dask_on_a_local_cluster_beats_the_mean(next_day):
    from distributed import Client, LocalCluster
    from xgboost import dask as dxgb

    ds = xt.datasets.tasmax(time=24, lat=30, lon=36, chunks={"time": 6})
    tab = next_day().fit(ds)
    X, y, coords = tab.to_dask(ds)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        dtrain = dxgb.DaskQuantileDMatrix(client, X, y, max_bin=64)
        params = {"max_depth": 4, "eta": 0.3, "max_bin": 64}
        booster = dxgb.train(client, params, dtrain, num_boost_round=30)["booster"]
        pred = dxgb.predict(client, booster, X).compute()
        truth = y.compute()
    grid = tab.to_grid(pred, coords, like=ds)
    mse = np.mean((pred - truth) ** 2)
    assert mse < 0.2 * np.var(truth)
    assert int(grid.notnull().sum()) == len(truth)


def test_weights_of_a_dask_table_follow_its_blocks():
    """tab.sample_weight of to_dask's coordinate frame (a dask frame under where or
    dropna) gives the weights lazily, a dask Series block by block as y (it refused the
    frame: the to_dask route could not be weighted); equal to the eager table's, by
    hand."""
    ds = xt.datasets.tasmax(time=10, lat=6, lon=7, nan_fraction=0.05, random_state=2)
    tab = xt.WindowTabularizer(
        {"time": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
        dropna=True,
        weight="coslat",
    ).fit(ds)
    X, y, coords = tab.to_dask(ds.chunk({"time": 3}))
    w = tab.sample_weight(coords)
    _, y_eager, frame = tab.tabularize(ds)
    expected = np.cos(np.deg2rad(frame["lat"].to_numpy()))
    np.testing.assert_array_equal(w.compute().to_numpy(), expected)
    np.testing.assert_array_equal(y.compute(), y_eager)
    assert w.npartitions == y.numblocks[0]


def test_dask_ml_incremental_trains_block_by_block():
    """dask-ml's Incremental on to_dask's blocks (the engine for distributed
    partial_fit) equals partial_fit called on each block in turn, by hand."""
    dask_ml = pytest.importorskip("dask_ml.wrappers")
    from sklearn.linear_model import SGDRegressor

    ds = xt.datasets.tasmax(time=12, lat=8, lon=9, chunks={"time": 4})
    tab = xt.WindowTabularizer(
        {"time": 3},
        input_overlap={"time": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
        scale=True,
    ).fit(ds)
    X, y, _ = tab.to_dask(ds)
    assert X.numblocks[0] == 3
    incremental = dask_ml.Incremental(
        SGDRegressor(random_state=0, shuffle=False), shuffle_blocks=False
    )
    incremental.fit(X, y)
    by_hand = SGDRegressor(random_state=0, shuffle=False)
    for Xb, yb in zip(X.blocks, y.blocks, strict=True):
        by_hand.partial_fit(Xb.compute(), yb.compute())
    np.testing.assert_allclose(incremental.estimator_.coef_, by_hand.coef_, rtol=1e-6)
    pred = incremental.estimator_.predict(tab.transform(ds.compute()))
    assert np.isfinite(pred).all()
