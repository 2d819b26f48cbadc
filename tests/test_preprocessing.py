"""Preprocessing inside the window against the brute-force reference: relative values,
scaling, summaries, sample selection, coordinate features."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import xbatcher_tab as xt
from xbatcher_tab.testing import reference_table

from .strategies import tab_case
from .support import assert_rows_equal, computed, concat_batches, make_tab

STATS = ["mean", "std", "min", "max"]


@st.composite
def preprocessing(draw, ds, kw):
    """Random preprocessing options for a ``tab_case``."""
    names = kw["variables"] or sorted(ds.data_vars)
    center = draw(
        st.one_of(
            st.none(),
            st.sampled_from(["anchor", "mean"]),
            st.fixed_dictionaries(
                {n: st.sampled_from([None, "anchor", "mean"]) for n in names[:1]}
            ),
        )
    )
    stats = draw(st.permutations(STATS))[: draw(st.integers(0, 4))]
    with_coords = [d for d in ds.dims if d in ds.coords]
    coord_features = draw(st.permutations(with_coords))[: draw(st.integers(0, 2))]
    where = None
    if draw(st.booleans()):
        dims = [d for d in ds.dims if draw(st.booleans())]
        rng = np.random.default_rng(draw(st.integers(0, 999)))
        labels = {d: ds[d] for d in dims if d in ds.coords}  # aligned by label where it can
        where = xr.DataArray(rng.random([ds.sizes[d] for d in dims]) < 0.7, labels, dims)
    dropna = draw(st.sampled_from([kw["dropna"], "target"])) if kw["target"] else kw["dropna"]
    return dict(
        center=center,
        scale=draw(st.booleans()),
        stats=tuple(stats),
        coord_features=list(coord_features),
        where=where,
        dropna=dropna,
    )


def reference(ds, kw, options, tab):
    args = {k: v for k, v in kw.items() if k != "dropna"}
    return reference_table(
        ds.compute(),
        **args,
        dropna=options["dropna"],
        center=options["center"],
        scaling=tab.layout_.scaling,
        stats=options["stats"],
        coord_features=[(c, "raw") for c in options["coord_features"]],
        where=options["where"],
    )


@pytest.mark.slow
@given(tab_case(), st.data())
def test_every_option_matches_brute_force(case, data):
    ds, kw = case
    options = data.draw(preprocessing(ds, kw))
    tab = make_tab(kw, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        X, y, coords = tab.fit(ds).tabularize(ds)
    X_ref, y_ref, c_ref = reference(ds, kw, options, tab)
    assert_rows_equal(X, X_ref)
    assert X.shape[1] == len(tab.get_feature_names_out())
    assert len(set(tab.get_feature_names_out())) == X.shape[1]
    if y is not None:
        np.testing.assert_array_equal(y, y_ref)
    pd.testing.assert_frame_equal(coords, c_ref, check_dtype=False)
    # the batch path (any batch size, rows gathered one by one when shuffled) and the
    # dask path give the same rows
    size = data.draw(st.integers(1, max(1, len(X))))
    shuffle = data.draw(st.booleans())
    batches = list(tab.iter_batches(ds, batch_size=size, shuffle=shuffle, random_state=1))
    if len(X):
        Xb, _, cb = concat_batches(batches)
        at = coords.index.get_indexer(cb.index)
        assert_rows_equal(Xb, X[at])
    dX, _, dcoords = tab.to_dask(ds)
    assert_rows_equal(dX.compute(), X)
    pd.testing.assert_frame_equal(computed(dcoords), coords, check_index_type=False)


def test_scale_statistics_are_those_of_the_grid_cells(backend):
    ds = xt.datasets.tasmax(time=10, lat=6, lon=7, nan_fraction=0.2, static=True)
    from .support import with_backend

    data = with_backend(ds, backend, {"time": 3})
    tab = xt.WindowTabularizer(input_dims={"time": 3}, scale=True).fit(data)
    for v in ("orog", "tasmax"):
        mean, std = tab.layout_.scaling[v]
        assert mean == pytest.approx(float(ds[v].astype("float64").mean()), rel=1e-9)
        assert std == pytest.approx(float(ds[v].astype("float64").std()), rel=1e-9)


@pytest.mark.parametrize("pieces", [[10], [3, 7], [1, 2, 3, 4]])
def test_partial_fit_over_pieces_equals_fit(pieces):
    ds = xt.datasets.tasmax(time=10, lat=6, lon=7, nan_fraction=0.1)
    whole = xt.WindowTabularizer(input_dims={"time": 1}, scale=True).fit(ds)
    tab = xt.WindowTabularizer(input_dims={"time": 1}, scale=True)
    start = 0
    for n in pieces:
        tab.partial_fit(ds.isel(time=slice(start, start + n)).chunk({"time": 1}))
        start += n
    for a, b in zip(tab.layout_.scaling["tasmax"], whole.layout_.scaling["tasmax"], strict=True):
        assert a == pytest.approx(b, rel=1e-10)
    np.testing.assert_allclose(tab.transform(ds), whole.transform(ds), rtol=1e-6)
    other = ds.rename(tasmax="pr")
    with pytest.raises(ValueError, match="same layout"):
        tab.partial_fit(other)


def test_center_scale_and_stats_by_hand():
    ds = xr.Dataset({"v": (("t", "x"), np.array([[1.0, 2.0, 6.0], [4.0, np.nan, 0.0]]))})
    tab = xt.WindowTabularizer(
        input_dims={"x": 3}, center="anchor", stats=("max", "mean"), scale=True
    ).fit(ds)
    mean, std = tab.layout_.scaling["v"]
    assert mean == pytest.approx(13 / 5) and std == pytest.approx(np.std([1, 2, 6, 4, 0]))
    assert list(tab.get_feature_names_out()) == [
        "v(x-1)-anchor",
        "v(x+0)-anchor",
        "v(x+1)-anchor",
        "v@anchor",
        "v@max",
        "v@mean",
    ]
    X = tab.transform(ds)
    z = (np.array([[1.0, 2.0, 6.0], [4.0, np.nan, 0.0]]) - mean) / std
    expected = [
        [*(z[0] - z[0, 1]), z[0, 1], z[0].max(), z[0].mean()],
        [*(z[1] - z[1, 1]), z[1, 1], np.nanmax(z[1]), np.nanmean(z[1])],
    ]
    np.testing.assert_allclose(X, np.array(expected, dtype=np.float32), rtol=1e-6)
    mean_centered = xt.WindowTabularizer(input_dims={"x": 3}, center="mean", stats=["mean"])
    names = list(mean_centered.fit(ds).get_feature_names_out())
    assert names == ["v(x-1)-mean", "v(x+0)-mean", "v(x+1)-mean", "v@mean"]  # the mean once


def test_center_along_a_lead_dim_uses_the_last_cell():
    ds = xt.datasets.tasmax(time=6, lat=3, lon=3)
    tab = xt.WindowTabularizer(
        input_dims={"time": 3}, center="anchor", target=xt.Target("tasmax", lead={"time": 1})
    )
    X, y, _ = tab.tabularize(ds)
    names = list(tab.get_feature_names_out())
    assert names[-1] == "tasmax@anchor" and names[2] == "tasmax(time-1)-anchor"
    np.testing.assert_array_equal(X[:, 2], 0)  # the last day minus itself
    first = ds.tasmax.isel(lat=0, lon=0).values
    np.testing.assert_allclose(X[0], [first[0] - first[2], first[1] - first[2], 0, first[2]])


def test_dropna_target_keeps_nan_features():
    ds = xt.datasets.tasmax(time=12, lat=8, lon=9, nan_fraction=0.3)
    kwargs = dict(
        input_dims={"lat": 3, "lon": 3, "time": 3},
        input_overlap={"lat": 2, "lon": 2, "time": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
    )
    everything = xt.WindowTabularizer(**kwargs).tabularize(ds)
    clean = xt.WindowTabularizer(**kwargs, dropna=True).tabularize(ds)
    labelled = xt.WindowTabularizer(**kwargs, dropna="target").tabularize(ds)
    assert len(clean.y) < len(labelled.y) < len(everything.y)
    assert not np.isnan(labelled.y).any() and np.isnan(labelled.X).any()
    assert len(labelled.y) == int((~np.isnan(everything.y)).sum())


def test_where_with_a_land_mask_and_a_callable():
    ds = xt.datasets.tasmax(time=8, lat=6, lon=7)
    land = (ds.lon < 180).rename("land")  # over lon only, with coordinates
    tab = xt.WindowTabularizer(input_dims={"time": 2}, where=land, target="tasmax")
    with pytest.warns(UserWarning):
        coords = tab.fit(ds).sample_coords(ds)
    assert (coords["lon"] < 180).all() and len(coords) == 4 * 6 * int(land.sum())

    def no_outliers(data):  # labels within 1 standard deviation of the mean
        return abs(data.tasmax - data.tasmax.mean()) < data.tasmax.std()

    tab = xt.WindowTabularizer(
        input_dims={"time": 2}, where=no_outliers, target=xt.Target("tasmax", lead={"time": 1})
    )
    X, y, coords = tab.tabularize(ds.chunk({"time": 3}))
    mean, std = float(ds.tasmax.mean()), float(ds.tasmax.std())
    assert (np.abs(y - mean) < std).all()
    assert len(y) < xt.WindowTabularizer(**{**tab.get_params(), "where": None}).fit(
        ds
    ).count_samples(ds)


def test_coordinate_features_are_the_anchors_calendar():
    times = pd.date_range("2019-03-01T00:00", periods=30, freq="h")
    ds = xr.Dataset(
        {"t2m": (("time", "lat", "lon"), np.random.default_rng(0).normal(size=(30, 3, 4)))},
        coords={"time": times, "lat": [50.0, 51.0, 52.0], "lon": [-2.0, -1.0, 0.0, 1.0]},
    )
    tab = xt.WindowTabularizer(
        input_dims={"time": 6},
        input_overlap={"time": 5},
        target=xt.Target("t2m", lead={"time": 6}),
        coord_features={"lat": "raw", "lon": "raw", "time.hour": "cyclic", "time.dayofyear": "raw"},
    )
    X, y, coords = tab.tabularize(ds)
    names = list(tab.get_feature_names_out())
    assert names[-5:] == [
        "anchor.lat",
        "anchor.lon",
        "anchor.time.hour.sin",
        "anchor.time.hour.cos",
        "anchor.time.dayofyear",
    ]
    hour = coords["time"].dt.hour.to_numpy()
    np.testing.assert_allclose(X[:, -5], coords["lat"])
    np.testing.assert_allclose(X[:, -4], coords["lon"])
    np.testing.assert_allclose(X[:, -3], np.sin(2 * np.pi * hour / 24), atol=1e-6)
    np.testing.assert_allclose(X[:, -2], np.cos(2 * np.pi * hour / 24), atol=1e-6)
    np.testing.assert_array_equal(X[:, -1], coords["time"].dt.day_of_year)
    # forecasts' anchors lie past the data: their calendar is extrapolated too
    features = ds.assign(label=ds.t2m)
    tab = xt.WindowTabularizer(
        **{**tab.get_params(), "variables": ["t2m"], "target": xt.Target("label", lead={"time": 6})}
    )
    tab.fit(features)
    X, _, coords = tab.tabularize(features[["t2m"]])
    assert coords["time"].max() == times[-1] + pd.Timedelta(hours=6)
    hour = coords["time"].dt.hour.to_numpy()
    np.testing.assert_allclose(X[:, -3], np.sin(2 * np.pi * hour / 24), atol=1e-6)


# -- augmentation -----------------------------------------------------------------------


@given(tab_case(), st.data())
def test_flip_equals_brute_force_flipped_windows(case, data):
    ds, kw = case
    options = dict(center=data.draw(st.sampled_from([None, "anchor"])), stats=("max",))
    tab = make_tab(kw, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        X, _, coords = tab.fit(ds).tabularize(ds)
    dim = data.draw(st.sampled_from(list(kw["input_dims"])))
    if kw["target"] and dim in (kw["lead"] or {}):  # along a lead dim: refused
        with pytest.raises(ValueError, match="the target's lead dim"):
            xt.augment.flip(tab, dims=[dim]).orders()
        return
    flipped, _, _ = xt.augment.flip(tab, dims=[dim], p=1.0)(
        X.copy(), None, coords, np.random.default_rng(0)
    )
    # brute force: each variable's window reshaped to its dims and reversed along dim
    expected = X.copy()
    plans, _ = tab.layout_.column_plan()
    for plan in plans:
        wdims = tab.layout_.window_dims(plan.variable)
        if dim not in wdims:
            continue
        shape = [kw["input_dims"][d] for d in wdims]
        for row in range(len(X)):
            window = X[row, plan.cells].reshape(shape)
            expected[row, plan.cells] = np.flip(window, axis=wdims.index(dim)).ravel()
    np.testing.assert_array_equal(flipped, expected)


def test_augmented_epochs_repeat_with_the_seed_and_train_xgboost():
    import xgboost

    ds = xt.datasets.tasmax(time=10, lat=8, lon=9)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 2},
        input_overlap={"lat": 2, "lon": 2, "time": 1},
        target=xt.Target("tasmax", lead={"time": 1}),
    ).fit(ds)
    flip = xt.augment.flip(tab, dims=("lon", "lat"), p=0.5)
    plain = np.concatenate([b.X for b in tab.iter_batches(ds, batch_size=100)])

    def epoch(seed, **kw):
        batches = tab.iter_batches(ds, batch_size=100, augment=flip, random_state=seed, **kw)
        return [b.X for b in batches]

    a, b, c = epoch(7), epoch(7), epoch(8)
    for x, z in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, z)
    assert any((x != z).any() for x, z in zip(a, c, strict=True))
    changed = (np.concatenate(a) != plain).any(axis=1).mean()
    assert 0.5 < changed < 0.95  # about 3 rows in 4 flipped along at least one dim
    np.testing.assert_array_equal(epoch(7, start=3)[0], a[3])  # resuming repeats too
    # xgboost: every pass of the iterator sees the same augmented batches
    it = xt.WindowDataIter(tab, ds, batch_size=100, augment=flip)
    passes = []
    for _ in range(2):
        seen = []
        while it.next(lambda seen=seen, **kw: seen.append(kw["data"].copy())):
            pass
        it.reset()
        passes.append(np.concatenate(seen))
    np.testing.assert_array_equal(passes[0], passes[1])
    dtrain = xgboost.QuantileDMatrix(it, max_bin=32)
    params = {"max_depth": 3, "nthread": 1, "max_bin": 32}
    booster = xgboost.train(params, dtrain, num_boost_round=10)
    X, y, _ = tab.tabularize(ds)
    pred = booster.predict(xgboost.DMatrix(X, feature_names=list(tab.get_feature_names_out())))
    assert np.mean((pred - y) ** 2) < 0.2 * np.var(y)


def test_flip_needs_windowed_dims_and_a_probability():
    ds = xt.datasets.tasmax(time=6, lat=5, lon=6)
    tab = xt.WindowTabularizer(input_dims={"lat": 3}).fit(ds)
    with pytest.raises(ValueError, match="flip dims must be windowed dims; 'lon'"):
        xt.augment.flip(tab, dims=["lon"]).orders()
    with pytest.raises(ValueError, match="p must be a probability"):
        xt.augment.flip(tab, dims=["lat"], p=2)
    with pytest.raises(TypeError, match="augment must be a function"):
        tab.iter_batches(ds, augment="flip")
    # along the lead dim a mirrored window reads the past backwards for the same label
    ahead = xt.WindowTabularizer(
        input_dims={"time": 3, "lat": 3}, target=xt.Target("tasmax", lead={"time": 1})
    ).fit(ds)
    with pytest.raises(ValueError, match="cannot include 'time', the target's lead dim"):
        xt.augment.flip(ahead, dims=["time"]).orders()
    xt.augment.flip(ahead, dims=["lat"]).orders()


@given(
    st.integers(0, 300),
    st.lists(st.integers(1, 7), min_size=1, max_size=3),
    st.sampled_from(["float32", "float64", "int32"]),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_center_columns_equals_numpy_subtraction(n, widths, dtype, strided, seed):
    """The BLAS update of center_columns (and its numpy fallback for other dtypes and
    non-contiguous rows) gives numpy's values, with NaN and infinite references and
    other columns left alone."""
    from xbatcher_tab._engine.kernels import center_columns

    rng = np.random.default_rng(seed)
    starts = np.cumsum([0] + [w + 1 for w in widths])  # a column between variables
    width = int(starts[-1]) + 1
    rows = (rng.normal(size=(n, width + strided)) * 100).astype(dtype)
    if dtype != "int32" and n:
        rows[rng.random(rows.shape) < 0.1] = np.nan
        rows[0, 0] = np.inf
    rows = rows[:, :width] if strided else rows
    refs = []
    for s, w in zip(starts[:-1], widths, strict=True):
        ref = rows[:, s + w].copy()  # the column after a variable's cells
        if dtype != "int32" and n > 1:
            ref[1] = -np.inf
        refs.append((slice(int(s), int(s + w)), ref))
    expected = rows.copy()
    for cells, ref in refs:
        expected[:, cells] -= ref[:, None]
    center_columns(rows, refs, chunk_bytes=512)
    np.testing.assert_array_equal(rows, expected)


def test_cache_groups_split_along_the_second_inner_dim():
    """Blocks copied in groups of rows smaller than one position of the first inner dim
    give the same rows as whole groups, with every finishing step."""

    ds = xt.datasets.tasmax(time=8).isel(lat=slice(0, 9), lon=slice(0, 14))
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
        center="anchor",
        stats=("mean", "max"),
        coord_features={"lat": "raw", "time.dayofyear": "cyclic"},
    ).fit(ds)
    whole = tab.transform(ds)
    budget = dict(group_bytes=3 * whole.shape[1] * whole.itemsize)
    with xt.set_options(copy_budget=budget):
        split = tab.transform(ds)
    np.testing.assert_array_equal(split, whole)
    X_ref, _, _ = reference_table(
        ds,
        input_dims={"lat": 3, "lon": 3, "time": 2},
        target="tasmax",
        lead={"time": 1},
        center="anchor",
        stats=("mean", "max"),
        coord_features=[("lat", "raw"), ("time.dayofyear", "cyclic")],
    )
    assert_rows_equal(split, X_ref)


def test_center_mean_of_a_variable_without_sample_dims():
    """A static (0-d) variable centered on its window mean: every row is 0 and the mean."""
    ds = xr.Dataset(
        {"a": (("time", "z"), np.array([[0.5, -1.5]])), "static": ((), 0.25)},
    )
    X = xt.WindowTabularizer(input_dims={"time": 1}, center="mean").fit_transform(ds)
    np.testing.assert_array_equal(X, [[0.0, 0.5, 0.0, 0.25], [0.0, -1.5, 0.0, 0.25]])


@pytest.mark.parametrize("size", [3, 7])
@pytest.mark.parametrize("direct", [True, False])
def test_masked_blocks_gathered_directly_or_through_scratch(size, direct):
    """Rows kept by a mask are the full table's rows, whether the kept windows are
    gathered straight into the output or moved out of a scratch copy of each group."""
    budget = dict(  # several groups per block
        direct_run_bytes=0 if direct else 1 << 30, group_bytes=1 << 14
    )
    ds = xt.datasets.tasmax(time=10, lat=16, lon=18, nan_fraction=0.05)
    rng = np.random.default_rng(1)
    land = ds.tasmax.isel(time=0, drop=True).copy(data=rng.random((16, 18)) < 0.6)
    window = dict(
        input_dims={"lat": size, "lon": size, "time": 3},
        input_overlap={"lat": size - 1, "lon": size - 1, "time": 2},
        target=xt.Target("tasmax", lead={"time": 1}),
        center="anchor",
        stats=("max",),
    )
    with xt.set_options(copy_budget=budget):
        X, _, coords = xt.WindowTabularizer(**window).tabularize(ds)
        Xm, _, cm = xt.WindowTabularizer(**window, where=land).tabularize(ds)
    assert 0 < len(Xm) < len(X)
    np.testing.assert_array_equal(Xm, X[coords.index.get_indexer(cm.index)])
    kept = land.sel(lat=cm["lat"].to_xarray(), lon=cm["lon"].to_xarray()).values
    assert kept.all()


def test_a_mask_whose_labels_differ_by_rounding_keeps_the_same_samples():
    """A ``where`` mask read from another file (float32 labels, or labels off by float
    rounding) keeps exactly the samples of the mask on the data's own labels; before,
    the inexact labels were filled False and their samples vanished silently. A mask
    on another grid altogether is refused; one covering part of the grid keeps that
    part. ``weight`` with such labels finds its weights too."""
    ds = xt.datasets.tasmax(time=6, lat=7, lon=8)
    land = (np.cos(np.deg2rad(ds.lat)) * np.sin(np.deg2rad(ds.lon))) > 0.2
    label = xt.Target("tasmax", lead={"time": 1})

    def kept(mask):
        tab = xt.WindowTabularizer({"time": 2}, target=label, where=mask)
        return tab.fit(ds).sample_coords(ds)

    exact = kept(land)
    by_hand = land.sel(lat=exact["lat"].to_xarray(), lon=exact["lon"].to_xarray())
    assert bool(by_hand.all()) and len(exact) == exact["time"].nunique() * int(land.sum())
    rounded = land.assign_coords(lat=land.lat.astype(np.float32), lon=land.lon + 1e-9)
    pd.testing.assert_frame_equal(kept(rounded), exact)
    with pytest.raises(ValueError, match="where's 'lon' labels .* match none of the data's"):
        kept(land.assign_coords(lon=land.lon + 1000.0))
    part = land.isel(lat=slice(0, 4))
    assert set(kept(part)["lat"]) == set(exact["lat"][exact["lat"] <= float(part.lat[-1])])
    weight = xr.ones_like(land, dtype=float).assign_coords(lat=land.lat.astype(np.float32))
    tab = xt.WindowTabularizer({"time": 2}, target=label, weight=weight).fit(ds)
    _, _, coords = tab.tabularize(ds)
    assert (tab.sample_weight(coords) == 1.0).all()


def test_rounding_tolerance_follows_the_gap_at_each_label():
    """On an uneven axis a label twice the value of a near-zero cell is not that cell
    (the tolerance used the median step: 0.002 matched 0.001); float32 rounding of
    every value still matches."""
    from xbatcher_tab._core.coords import matching_positions

    axis = np.array([0.0, 1e-3, 10.0, 20.0, 30.0])
    assert matching_positions(axis, [2e-3, 15.0]).tolist() == [-1, -1]
    rounded = axis.astype(np.float32).astype(np.float64) + 1e-9
    assert matching_positions(axis, rounded).tolist() == [0, 1, 2, 3, 4]


def test_a_callable_where_sees_every_variable_given():
    """``where=lambda data: data.orog > 500`` with orog not among the features: the
    function sees the data as given (it saw only the table's variables: a KeyError),
    in any direction; the samples kept are those whose anchor it marks, by hand."""
    ds = xt.datasets.tasmax(time=6, lat=6, lon=7, static=True)
    high = float(ds.orog.median())
    tab = xt.WindowTabularizer(
        {"time": 2},
        variables=["tasmax"],
        target=xt.Target("tasmax", lead={"time": 1}),
        where=lambda data: data.orog > high,
    )
    coords = tab.fit(ds).sample_coords(ds)
    kept = ds.orog.sel(lat=coords["lat"].to_xarray(), lon=coords["lon"].to_xarray())
    assert bool((kept > high).all())
    assert len(coords) == coords["time"].nunique() * int((ds.orog > high).sum())
    flipped = ds.isel(lat=slice(None, None, -1))  # put back in the fitted order
    pd.testing.assert_frame_equal(tab.sample_coords(flipped), coords)
