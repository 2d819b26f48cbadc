"""iter_batches: every sample once per epoch, in tabularize's order without shuffle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import xbatcher_tab as xt

from .strategies import tab_case
from .support import concat_batches as concat
from .support import count_dask_computes, fitted, with_backend


@pytest.mark.slow
@given(tab_case(), st.sampled_from(["1", "2", "50", "n", "n+42"]), st.booleans())
def test_sequential_batches_concatenate_to_tabularize(case, size, chunked):
    ds, tab = fitted(case)
    if chunked:
        ds = ds.chunk({d: max(1, n // 2) for d, n in ds.sizes.items()})
    X, y, coords = tab.tabularize(ds)
    n = len(coords)
    batch_size = {"1": 1, "2": 2, "50": 50, "n": max(n, 1), "n+42": n + 42}[size]
    batches = list(tab.iter_batches(ds, batch_size=batch_size))
    assert [len(b.X) for b in batches[:-1]] == [batch_size] * (len(batches) - 1)
    assert len(batches) == -(-n // batch_size)
    if n == 0:
        return
    Xb, yb, cb = concat(batches)
    np.testing.assert_array_equal(Xb, X)
    if y is not None:
        np.testing.assert_array_equal(yb, y)
    pd.testing.assert_frame_equal(cb, coords)


@pytest.mark.slow
@given(tab_case(), st.integers(1, 40), st.booleans(), st.integers(0, 3))
def test_shuffled_epoch_loses_and_repeats_nothing(case, batch_size, chunked, seed):
    ds, tab = fitted(case)
    if chunked:
        ds = ds.chunk({d: max(1, n // 3) for d, n in ds.sizes.items()})
    X, y, coords = tab.tabularize(ds)
    batches = list(tab.iter_batches(ds, batch_size=batch_size, shuffle=True, random_state=seed))
    if not len(coords):
        assert batches == []
        return
    Xb, yb, cb = concat(batches)
    assert sorted(cb.index) == list(coords.index)  # each sample exactly once
    row = {sid: i for i, sid in enumerate(coords.index)}
    at = np.array([row[s] for s in cb.index])
    np.testing.assert_array_equal(Xb, X[at])  # rows travel with their ids
    if y is not None:
        np.testing.assert_array_equal(yb, y[at])
    pd.testing.assert_frame_equal(cb, coords.iloc[at])
    again = list(tab.iter_batches(ds, batch_size=batch_size, shuffle=True, random_state=seed))
    assert list(concat(again)[2].index) == list(cb.index)  # the same seed, the same epoch


@pytest.mark.slow
@given(tab_case(), st.integers(1, 40), st.booleans())
def test_shuffled_rows_from_expanded_windows(case, batch_size, chunked):
    """Scattered rows read from the expanded copy (built at once here) and, over
    several slabs, put straight in their rows of the batch a chunk at a time: the
    same rows."""
    ds, tab = fitted(case)
    if chunked:
        ds = ds.chunk({d: max(1, n // 3) for d, n in ds.sizes.items()})
    X, y, coords = tab.tabularize(ds)
    budget = dict(payback=0.0, short_run_bytes=1 << 30, chunk_bytes=1)  # a row a chunk
    with xt.set_options(copy_budget=budget):
        batches = list(tab.iter_batches(ds, batch_size=batch_size, shuffle=True, random_state=1))
    assert len(batches) == -(-len(coords) // batch_size)
    assume(len(coords))
    Xb, yb, cb = concat(batches)
    row = {sid: i for i, sid in enumerate(coords.index)}
    at = np.array([row[s] for s in cb.index])
    assert sorted(at.tolist()) == list(range(len(coords)))
    np.testing.assert_array_equal(Xb, X[at])
    if y is not None:
        np.testing.assert_array_equal(yb, y[at])


def test_expanded_windows_are_built_once_they_pay_for_themselves():
    # the numpy engine's device (the compiled one reads the short runs directly)
    from xbatcher_tab._table.slabs import load_table

    ds = xt.datasets.tasmax(time=12, lat=20, lon=24)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 5, "lon": 5, "time": 3},
        input_overlap={"lat": 4, "lon": 4, "time": 2},
    ).fit(ds)
    X = tab.tabularize(ds).X
    with xt.set_options(engine="numpy"):
        table = load_table(tab.get_layout(), ds)
    (feature,) = table.features
    ids = np.random.default_rng(0).permutation(table.n_samples)
    cost = feature.arr.nbytes * feature.sizes[-1]  # expanded along time, at stride 1
    first = ids[: cost // X[0].nbytes // 2]
    np.testing.assert_array_equal(table.X(first), X[first])
    assert feature.expanded is None  # half its cost gathered: not yet
    rest = ids[first.size :]
    np.testing.assert_array_equal(table.X(rest), X[rest])
    assert feature.expanded is not None and not np.shares_memory(feature.expanded, feature.arr)
    np.testing.assert_array_equal(feature.expanded, feature.windows())


def test_shuffle_actually_mixes_and_seeds_differ(backend):
    ds = with_backend(xt.datasets.tasmax(time=40, lat=6, lon=8), backend, {"time": 7})
    tab = xt.WindowTabularizer(
        input_dims={"time": 3},
        input_overlap={"time": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
    ).fit(ds)
    orders = [
        list(
            pd.concat(
                [
                    b.coords
                    for b in tab.iter_batches(ds, batch_size=64, shuffle=True, random_state=s)
                ]
            ).index
        )
        for s in (0, 1)
    ]
    assert orders[0] != orders[1]
    assert orders[0] != sorted(orders[0])
    first = orders[0][:64]
    # batches mix samples from far apart in time, not one contiguous run
    assert max(first) - min(first) > 5 * 64


@pytest.mark.parametrize("shuffle", [False, True, "full"])
def test_start_resumes_the_same_epoch(shuffle, backend):
    ds = with_backend(xt.datasets.tasmax(time=20, lat=5, lon=6), backend, {"time": 5})
    tab = xt.WindowTabularizer(
        input_dims={"time": 4, "lat": 3},
        input_overlap={"time": 3, "lat": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
    ).fit(ds)
    full = list(tab.iter_batches(ds, batch_size=37, shuffle=shuffle, random_state=7))
    tail = list(tab.iter_batches(ds, batch_size=37, shuffle=shuffle, random_state=7, start=3))
    assert len(tail) == len(full) - 3
    for a, b in zip(full[3:], tail, strict=True):
        np.testing.assert_array_equal(a.X, b.X)
        pd.testing.assert_frame_equal(a.coords, b.coords)


def test_drop_last_and_numpy_equals_dask():
    ds = xt.datasets.tasmax(time=15, lat=5, lon=6)
    tab = xt.WindowTabularizer(
        input_dims={"time": 3},
        input_overlap={"time": 1},
        target=xt.Target("tasmax", lead={"time": 1}),
    ).fit(ds)
    n = len(tab.sample_coords(ds))
    eager = list(tab.iter_batches(ds, batch_size=50, drop_last=True))
    assert [len(b.y) for b in eager] == [50] * (n // 50)
    lazy = list(tab.iter_batches(ds.chunk({"time": 4, "lat": 2}), batch_size=50, drop_last=True))
    for a, b in zip(eager, lazy, strict=True):
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.y, b.y)
        pd.testing.assert_frame_equal(a.coords, b.coords)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"batch_size": 2.5}, "batch_size must be a positive integer, got 2.5"),
        ({"shuffle": "yes"}, "shuffle must be True, False or 'full', got 'yes'"),
        ({"start": -1}, "start must be a batch index >= 0, got -1"),
        ({"shuffle_buffer": 0}, "shuffle_buffer must be a positive integer, got 0"),
    ],
)
def test_bad_arguments(kwargs, pattern):
    ds = xt.datasets.tasmax(time=6, lat=3, lon=3)
    tab = xt.WindowTabularizer(input_dims={"time": 2}).fit(ds)
    with pytest.raises((TypeError, ValueError), match=pattern):
        tab.iter_batches(ds, **kwargs)  # checked when called, before any batch


def test_batches_are_read_lazily_slab_by_slab():
    """Fitting and starting an epoch compute nothing; the first batch reads one slab."""
    ds = xt.datasets.tasmax(time=40, lat=6, lon=8, chunks={"time": 8})
    with count_dask_computes() as computes:
        tab = xt.WindowTabularizer(
            input_dims={"time": 4}, target=xt.Target("tasmax", lead={"time": 1})
        ).fit(ds)
        batches = tab.iter_batches(ds, batch_size=10)
        assert computes == []
        first = next(iter(batches))
        assert len(computes) == 1  # one slab: the first chunk plus the window's halo
        assert first.X.shape == (10, 4)
        rest = list(batches)
    n = 9 * 6 * 8  # windows start every 4 days; the last label must fit
    assert sum(len(b.y) for b in [first, *rest]) == n
    assert len(computes) == 5  # each of the 5 chunks read once


def test_one_row_type_for_tables_and_batches():
    ds = xt.datasets.tasmax(time=8, lat=3, lon=4)
    tab = xt.WindowTabularizer(
        input_dims={"time": 3}, target=xt.Target("tasmax", lead={"time": 1})
    ).fit(ds)
    whole = tab.tabularize(ds)
    batch = next(iter(tab.iter_batches(ds, batch_size=5)))
    for rows in (whole, batch):
        assert isinstance(rows, xt.Tabular) and isinstance(rows, tuple)
        assert len(rows) == 3
        X, y, coords = rows
        assert X is rows.X is rows[0] and y is rows.y is rows[1]
        assert coords is rows.coords is rows[-1]
        assert rows._fields == ("X", "y", "coords")
    np.testing.assert_array_equal(batch.X, whole.X[:5])


@given(
    st.lists(st.integers(0, 9), max_size=8),
    st.integers(1, 12),
    st.booleans(),
    st.integers(0, 30),
)
def test_rebatch_regroups_in_order(sizes, size, drop_last, skip):
    from xbatcher_tab.batching import rebatch

    bounds = np.cumsum([0, *sizes])
    pieces = [np.arange(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    batches = list(rebatch(iter(pieces), size, drop_last=drop_last, skip=skip))
    expected = np.arange(min(skip, bounds[-1]), bounds[-1])
    full = len(expected) // size * size
    if drop_last:
        expected = expected[:full]
    assert all(len(b) == size for b in batches[: full // size])
    assert len(batches) == (len(expected) + size - 1) // size
    got = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    np.testing.assert_array_equal(got, expected)


def test_increasing_ids_mixing_sparse_and_dense_blocks():
    """Sparse blocks on either side of a dense one are copied row by row in one run;
    the dense block from its block view: every row is the table's."""
    from xbatcher_tab._table.slabs import load_table

    ds = xt.datasets.tasmax(time=8, lat=10, lon=12)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 2}, input_overlap={"lat": 2, "lon": 2}
    ).fit(ds)
    table = load_table(tab.get_layout(), ds)
    X = tab.tabularize(ds).X
    block = table.grid.inner
    assert table.grid.counts[0] >= 4
    ids = np.concatenate(
        [
            [1, 5],  # sparse in block 0
            [block + 2],  # sparse in block 1
            np.arange(2 * block + 1, 3 * block - 1),  # dense in block 2
            [3 * block + 7],  # sparse in block 3
        ]
    )
    np.testing.assert_array_equal(table.X(ids), X[ids])


def test_a_shuffle_without_a_seed_shuffles():
    """shuffle=True without random_state permutes the epoch (for a moment it gave the
    storage order: the missing seed read as "no shuffle"), a new order each call."""
    ds = xt.datasets.tasmax(time=10, lat=4, lon=5)
    tab = xt.WindowTabularizer({"time": 2}, target=xt.Target("tasmax", lead={"time": 1}))
    tab.fit(ds)
    in_order = tab.sample_coords(ds).index.to_numpy()
    orders = [
        np.concatenate(
            [b.coords.index.to_numpy() for b in tab.iter_batches(ds, batch_size=8, shuffle=True)]
        )
        for _ in range(2)
    ]
    for order in orders:
        assert sorted(order) == sorted(in_order) and not np.array_equal(order, in_order)
    assert not np.array_equal(orders[0], orders[1])


@pytest.mark.parametrize("shuffle", [True, "full"])
def test_shuffled_batches_are_random_sets_in_storage_order(backend, shuffle):
    """A shuffled batch is a random set of samples whose rows come in storage order
    (``row_order="storage"``, the default); ``row_order="random"`` gives the same sets
    in the epoch's permuted order. Rows checked against the table."""
    ds = with_backend(xt.datasets.tasmax(time=40, lat=6, lon=8), backend, {"time": 7})
    tab = xt.WindowTabularizer(
        input_dims={"time": 3}, target=xt.Target("tasmax", lead={"time": 1})
    ).fit(ds)
    X, y, coords = tab.tabularize(ds)
    position = pd.Series(np.arange(len(coords)), index=coords.index)

    def epoch(**kw):
        return list(tab.iter_batches(ds, batch_size=50, shuffle=shuffle, random_state=3, **kw))

    stored, permuted = epoch(), epoch(row_order="random")
    assert len(stored) == len(permuted) == -(-len(coords) // 50)
    unsorted = 0
    for a, b in zip(stored, permuted, strict=True):
        ia, ib = a.coords.index.to_numpy(), b.coords.index.to_numpy()
        assert np.array_equal(ia, np.sort(ib))  # the same set, in storage order
        unsorted += not np.array_equal(ib, np.sort(ib))
        at = position[ia].to_numpy()
        np.testing.assert_array_equal(a.X, X[at])
        np.testing.assert_array_equal(a.y, y[at])
        # a random set: spread over the epoch, not a run of neighbours
        assert at.max() - at.min() > 3 * at.size
    assert unsorted == len(permuted)  # "random" keeps the permutation inside batches
    ids = np.concatenate([b.coords.index.to_numpy() for b in stored])
    assert sorted(ids) == sorted(coords.index) and not np.array_equal(ids, np.sort(ids))
