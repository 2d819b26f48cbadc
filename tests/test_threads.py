"""Threads: rows gathered by several threads equal one thread's; prefetched batches are
the same batches, surface background errors and leave no thread behind."""

from __future__ import annotations

import dataclasses
import threading
import time
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn.linear_model import SGDRegressor

import xbatcher_tab as xt
from xbatcher_tab._engine.runtime import CopyBudget
from xbatcher_tab._table.prefetch import prefetched

from .strategies import tab_case
from .support import concat_batches, make_tab


def prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "xbatcher-tab-prefetch"]


SPLIT_EVERYTHING = {"thread_min_bytes": 1}  # split every gather, however small


@pytest.mark.slow
@given(tab_case(), st.integers(2, 4), st.data())
def test_threaded_rows_equal_one_thread(case, n_jobs, data):
    ds, kw = case
    options = {}
    if data.draw(st.booleans()):
        options["center"] = data.draw(st.sampled_from(["anchor", "mean"]))
    if data.draw(st.booleans()):
        options["stats"] = ("mean", "max")
    one = make_tab(kw, **options)
    many = make_tab(kw, n_jobs=n_jobs, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        X1, y1, c1 = one.fit(ds).tabularize(ds)
        with xt.set_options(copy_budget=SPLIT_EVERYTHING):  # split even these small gathers
            Xn, yn, cn = many.fit(ds).tabularize(ds)
            size = data.draw(st.integers(1, max(1, len(X1))))
            shuffle = data.draw(st.booleans())
            batches = list(many.iter_batches(ds, batch_size=size, shuffle=shuffle, random_state=2))
            reference = list(one.iter_batches(ds, batch_size=size, shuffle=shuffle, random_state=2))
    np.testing.assert_array_equal(Xn, X1)
    np.testing.assert_array_equal(yn, y1)
    assert cn.equals(c1)
    assert len(batches) == len(reference)
    for a, b in zip(batches, reference, strict=True):
        np.testing.assert_array_equal(a.X, b.X)
        assert a.coords.index.equals(b.coords.index)


@given(tab_case(), st.integers(1, 3), st.data())
def test_rows_put_in_place_equal_gathered_rows(case, n_jobs, data):
    """``Table.X(ids, out=big, at=r)`` puts the row of ``ids[i]`` in ``big[r[i]]``
    and leaves the other rows alone, whatever path copies them (whole blocks, dense
    subsets, one by one, finished or not) and however many threads split them."""
    from xbatcher_tab._table.slabs import load_table

    ds, kw = case
    options = {}
    if data.draw(st.booleans()):
        options["center"] = data.draw(st.sampled_from(["anchor", "mean"]))
    if data.draw(st.booleans()):
        options["stats"] = ("mean",)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tab = make_tab(kw, n_jobs=n_jobs, **options).fit(ds)
        X = tab.tabularize(ds).X
        chunk = data.draw(st.sampled_from([1, 64, 1 << 22]))
        budget = CopyBudget(thread_min_bytes=1, chunk_bytes=chunk)
        runtime = dataclasses.replace(tab._runtime(), budget=budget)
        table = load_table(tab.get_layout(), ds, runtime=runtime)
    ids = table.valid_ids()
    assume(ids.size)
    kind = data.draw(st.sampled_from(["all", "sorted subset", "shuffled"]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    picked = np.arange(ids.size)
    if kind == "sorted subset":
        picked = np.flatnonzero(rng.random(ids.size) < data.draw(st.floats(0.05, 1.0)))
    elif kind == "shuffled":
        picked = rng.permutation(ids.size)[: data.draw(st.integers(1, ids.size))]
    extra = data.draw(st.integers(0, 5))
    rows = rng.permutation(picked.size + extra)[: picked.size]
    big = np.full((picked.size + extra, X.shape[1]), -7.0, dtype=X.dtype)
    table.X(ids[picked], out=big, at=rows)
    np.testing.assert_array_equal(big[rows], X[picked])
    untouched = np.setdiff1d(np.arange(big.shape[0]), rows)
    assert (big[untouched] == -7.0).all()


def test_rows_need_out_and_one_row_per_id():
    from xbatcher_tab._table.slabs import load_table

    ds = xt.datasets.tasmax(time=6, lat=4, lon=5)
    tab = xt.WindowTabularizer(input_dims={"time": 2}).fit(ds)
    table = load_table(tab.get_layout(), ds)
    ids = table.valid_ids()[:3]
    with pytest.raises(ValueError, match="at needs out"):
        table.X(ids, at=np.arange(3))
    big = np.empty((5, table.n_features), dtype=np.float32)
    with pytest.raises(ValueError, match="one row of out per id"):
        table.X(ids, out=big, at=np.arange(2))


def test_threaded_gather_splits_at_block_edges(next_day):
    ds = xt.datasets.tasmax(time=12, lat=10, lon=12)
    tab = next_day(n_jobs=3).fit(ds)
    from xbatcher_tab._table.slabs import load_table

    with xt.set_options(copy_budget=SPLIT_EVERYTHING):
        table = load_table(tab.get_layout(), ds, runtime=tab._runtime())
    ids = table.valid_ids()
    parts = table.copier.thread_parts(ids)
    assert len(parts) == 3
    assert all(p.start % table.grid.inner == 0 for p in parts)
    assert parts[0].start == 0 and parts[-1].stop == ids.size
    # and predictions from a threaded tabularizer are those of one thread
    X, y, _ = tab.tabularize(ds)
    model = SGDRegressor(random_state=0).fit(X, y)
    np.testing.assert_array_equal(
        xt.predict(model, tab, ds).values,
        xt.predict(model, tab.set_params(n_jobs=None), ds).values,
    )


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (1.5, TypeError), ("2", TypeError)])
def test_bad_n_jobs_is_named(value, error):
    ds = xt.datasets.tasmax(time=4, lat=4, lon=4)
    tab = xt.WindowTabularizer(input_dims={"time": 2}, n_jobs=value)
    with pytest.raises(error, match="n_jobs must be None, a positive integer"):
        tab.fit_transform(ds)


def test_n_jobs_minus_one_is_every_core():
    from xbatcher_tab._core.checks import available_cores, check_n_jobs

    assert check_n_jobs(-1) == available_cores()
    assert check_n_jobs(-available_cores() - 5) == 1


@pytest.mark.parametrize("backend", ["numpy", "dask"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_prefetched_batches_are_the_same_batches(next_day, backend, shuffle):
    ds = xt.datasets.tasmax(time=14, lat=8, lon=9)
    if backend == "dask":
        ds = ds.chunk(time=4)
    tab = next_day().fit(ds)
    options = dict(batch_size=61, shuffle=shuffle, random_state=5)
    plain = list(tab.iter_batches(ds, **options))
    ahead = list(tab.iter_batches(ds, prefetch=3, **options))
    assert len(plain) == len(ahead) > 5
    for a, b in zip(plain, ahead, strict=True):
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.y, b.y)
        assert a.coords.equals(b.coords)
    Xa, _, _ = concat_batches(ahead)
    assert Xa.shape[0] == tab.count_samples(ds)
    assert not prefetch_threads()


def test_an_error_in_the_background_surfaces_where_its_batch_would_come():
    ds = xt.datasets.tasmax(time=14, lat=8, lon=9)
    tab = xt.WindowTabularizer(
        input_dims={"time": 3}, target=xt.Target("tasmax", lead={"time": 1})
    ).fit(ds)
    calls = []

    def fails_at_the_third(X, y, coords, rng):
        calls.append(len(y))
        if len(calls) == 3:
            raise RuntimeError("corrupt chunk")
        return X, y, coords

    received = []
    with pytest.raises(RuntimeError, match="corrupt chunk"):
        for batch in tab.iter_batches(ds, batch_size=50, augment=fails_at_the_third, prefetch=2):
            received.append(batch)
    assert len(received) == 2  # the two batches before the failing one, in order
    deadline = time.monotonic() + 5
    while prefetch_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not prefetch_threads()


def test_stopping_early_leaves_no_thread_running():
    made = []

    def slow():
        for i in range(1000):
            made.append(i)
            yield i

    batches = prefetched(slow(), 4)
    for i, _item in enumerate(batches):
        if i == 2:
            break
    batches.close()
    assert not prefetch_threads()
    assert len(made) <= 2 + 1 + 4 + 1  # taken, in hand, queued, being prepared
    # the source generator itself was closed
    source = slow()
    gen = prefetched(source, 1)
    next(gen)
    gen.close()
    assert source.gi_frame is None


def test_partial_fit_prefetches_the_same_training(next_day):
    ds = xt.datasets.tasmax(time=12, lat=8, lon=9)
    tab = next_day().fit(ds)
    kw = dict(batch_size=64, epochs=2, random_state=0)
    a = xt.fit_batches(SGDRegressor(random_state=0), tab, ds, prefetch=0, **kw)
    b = xt.fit_batches(SGDRegressor(random_state=0), tab, ds, **kw)  # prefetch=1
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not prefetch_threads()


def test_window_data_iter_reset_stops_its_thread():
    xgboost = pytest.importorskip("xgboost")
    ds = xt.datasets.tasmax(time=12, lat=8, lon=9)
    tab = xt.WindowTabularizer(
        input_dims={"time": 3}, target=xt.Target("tasmax", lead={"time": 1})
    ).fit(ds)
    it = xt.WindowDataIter(tab, ds, batch_size=50, prefetch=2)
    dtrain = xgboost.QuantileDMatrix(it, max_bin=16)
    assert dtrain.num_row() == tab.count_samples(ds)
    it.next(lambda **kw: None)  # a pass left unfinished
    it.reset()
    assert not prefetch_threads()
