"""From a trained model back to the map: forecasts, xt.predict, WindowModel, tuning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import xgboost
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import xbatcher_tab as xt
from xbatcher_tab.model_selection import WindowBlockSplit, WindowData

from .support import raise_if_dask_computes, with_backend


def two_variables(time=12, lat=6, lon=7, numeric_time=False):
    """tasmax (features) and a separate label variable ``heat`` (tomorrow's tasmax
    anomaly, transposed to lat, lon, time) on notebook-shaped data."""
    ds = xt.datasets.tasmax(time=time, lat=lat, lon=lon)
    heat = (ds.tasmax - ds.tasmax.mean("time")).transpose("lat", "lon", "time")
    ds = ds.assign(heat=heat.assign_attrs(units="K", long_name="heat anomaly"))
    if numeric_time:
        ds = ds.assign_coords(time=np.arange(time) * 6.0)  # hours
    return ds


def make_tab(**kwargs):
    args = dict(
        input_dims={"lat": 3, "lon": 3, "time": 3},
        input_overlap={"lat": 2, "lon": 2, "time": 2},
        variables=["tasmax"],
        target=xt.Target("heat", lead={"time": 1}),
    )
    return xt.WindowTabularizer(**{**args, **kwargs})


# -- the layout is the contract: features only, forecasts ------------------------------------


def test_pipeline_fitted_on_labels_predicts_on_features_only():
    ds = two_variables()
    tab = make_tab()
    y = tab.fit(ds).target_values(ds)
    pipe = Pipeline([("tab", tab), ("model", Ridge())]).fit(ds, y)
    features = ds[["tasmax"]]
    pred = pipe.predict(features)
    # every window whose features lie inside the data: one more day than with labels
    assert len(pred) == len(y) + 4 * 5  # the last window start, over 4 lats x 5 lons
    np.testing.assert_allclose(pred[: len(y)], pipe.predict(ds), rtol=1e-6)
    assert tab.get_feature_names_out().tolist() == pipe[0].get_feature_names_out().tolist()
    with pytest.raises(ValueError, match="lacks the target variable 'heat'"):
        pipe[0].target_values(features)


@pytest.mark.parametrize("numeric_time", [False, True])
@pytest.mark.parametrize("lead", [1, 2])
def test_forecasts_are_labelled_past_the_last_time(numeric_time, lead):
    ds = two_variables(numeric_time=numeric_time)
    tab = make_tab(target=xt.Target("heat", lead={"time": lead}))
    tab.fit(ds)
    labelled = tab.sample_coords(ds)
    coords = tab.sample_coords(ds[["tasmax"]])
    times = ds.time.values
    step = times[1] - times[0]
    assert coords["time"].max() == times[-1] + lead * step  # the last window's label day
    assert labelled["time"].max() == times[-1]
    # the forecast rows are the windows that end on the data's last days
    forecast = coords[coords["time"] > times[-1]]
    assert sorted(forecast["time"].unique()) == [times[-1] + k * step for k in range(1, lead + 1)]
    X = tab.transform(ds[["tasmax"]])
    assert len(X) == len(coords) and np.isfinite(X).all()
    # the last row's window is the data's last 3 days
    last = coords.iloc[-1]
    window = ds.tasmax.sel(lat=ds.lat[-3:], lon=ds.lon[-3:]).isel(time=slice(-3, None))
    np.testing.assert_array_equal(X[-1], window.transpose("lat", "lon", "time").values.ravel())
    assert last["lat"] == ds.lat.values[-2] and last["lon"] == ds.lon.values[-2]


def test_forecasts_need_a_regular_coordinate():
    ds = two_variables()
    irregular = ds.assign_coords(time=np.r_[0.0, 1.0, 2.5, np.arange(4.0, 13.0)])  # no gap
    tab = make_tab().fit(irregular)
    with pytest.raises(ValueError, match="cannot label forecasts past the end of 'time'"):
        tab.sample_coords(irregular[["tasmax"]])
    # inside the data an irregular coordinate is fine
    assert len(tab.sample_coords(irregular)) == len(tab.target_values(irregular))


def test_transform_on_the_last_days_only():
    """The issue's case: a 3-day window on the last 3 days forecasts the next day."""
    ds = two_variables()
    tab = make_tab(variables=["tasmax"], target=xt.Target("tasmax", lead={"time": 1}))
    tab.fit(ds)
    last = ds[["tasmax"]].isel(time=slice(-3, None))
    with pytest.raises(ValueError, match="shorter than the window of 3 plus the lead of 1"):
        tab.transform(last)  # tasmax is the target too: the data holds labels
    pred = xt.predict(Ridge().fit(*tab.tabularize(ds)[:2]), tab, last)
    assert pred.sizes["time"] == 4 and str(pred.time.values[-1])[:10] == "1850-01-13"
    assert int(pred.notnull().sum()) == 4 * 5 and bool(pred.isel(time=-1).notnull().sum())


# -- xt.predict against to_grid(model.predict(tab.transform(data))) --------------------------


def reference_map(model_predict, tab, ds):
    features = ds[tab.variables_]
    X, _, coords = tab.tabularize(features)
    return tab.to_grid(model_predict(X), coords, like=features)


def trained_models(ds, tab):
    X, y, _ = tab.tabularize(ds)
    names = [str(n) for n in tab.get_feature_names_out()]
    it = xt.WindowDataIter(tab, ds, batch_size=100)
    params = {"max_depth": 3, "eta": 0.3, "max_bin": 32, "nthread": 1}
    booster = xgboost.train(params, xgboost.QuantileDMatrix(it, max_bin=32), num_boost_round=5)
    return {
        "ridge": (Ridge().fit(X, y), lambda m, X: m.predict(X)),
        "pipeline": (
            make_pipeline(StandardScaler(), Ridge()).fit(X, y),
            lambda m, X: m.predict(X),
        ),
        "xgbregressor": (
            xgboost.XGBRegressor(n_estimators=5, max_depth=3, nthread=1).fit(X, y),
            lambda m, X: m.predict(X),
        ),
        "booster": (
            booster,
            lambda m, X: m.predict(xgboost.DMatrix(X, feature_names=names)),
        ),
    }


@pytest.fixture(scope="module")
def fitted_models():
    ds = two_variables(time=10, lat=7, lon=8)
    tab = make_tab().fit(ds)
    return ds, tab, trained_models(ds, tab)


@pytest.mark.parametrize("batch_size", [1, 7, 65536])
@pytest.mark.parametrize("kind", ["ridge", "pipeline", "xgbregressor", "booster"])
def test_predict_equals_to_grid_of_predict(fitted_models, kind, batch_size, backend):
    ds, tab, models = fitted_models
    model, call = models[kind]
    expected = reference_map(lambda X: call(model, X), tab, ds)
    data = with_backend(ds, backend, {"time": 4, "lat": 3})
    got = xt.predict(model, tab, data, batch_size=batch_size)
    assert got.name == "heat" and got.attrs == ds.heat.attrs
    assert got.dims == ("lat", "lon", "time")  # the target variable's order
    assert got.sizes["time"] == ds.sizes["time"] + 1  # one forecast day
    got = got.compute().transpose(*expected.dims)
    xr.testing.assert_equal(got.isnull(), expected.isnull())
    if kind in ("xgbregressor", "booster"):
        np.testing.assert_array_equal(got.values, expected.values)
    else:  # float32 dot products round differently with the batch's size
        np.testing.assert_allclose(got.values, expected.values, rtol=1e-5, atol=1e-4)
    xr.testing.assert_equal(got.time, expected.time)


@pytest.mark.slow
@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 60), st.data())
def test_predict_any_window_and_chunking(size, lead, overlap, batch_size, data):
    """Cell for cell against the reference for random windows, leads and chunkings."""
    ds = two_variables(time=9, lat=4, lon=5)
    overlap = min(overlap, size - 1)
    tab = make_tab(
        input_dims={"time": size, "lat": 2},
        input_overlap={"time": overlap},
        target=xt.Target("heat", lead={"time": lead}),
    ).fit(ds)
    X, y, _ = tab.tabularize(ds)
    model = Ridge().fit(X.astype(np.float64), y)
    chunks = {"time": data.draw(st.integers(1, 9)), "lat": data.draw(st.integers(1, 4))}
    source = data.draw(st.sampled_from([ds, ds.chunk(chunks)]))
    got = xt.predict(model, tab, source, batch_size=batch_size).compute()
    expected = reference_map(model.predict, tab, ds).transpose(*got.dims)
    xr.testing.assert_equal(got.isnull(), expected.isnull())
    np.testing.assert_allclose(got.values, expected.values, rtol=1e-6)


def test_lightgbm_models_predict_on_the_map(fitted_models):
    """What works with xgboost works with LightGBM: a regressor and a classifier."""
    import lightgbm

    ds, tab, _ = fitted_models
    X, y, _ = tab.tabularize(ds)
    params = dict(n_estimators=10, num_leaves=7, min_child_samples=5, verbose=-1)
    reg = lightgbm.LGBMRegressor(**params).fit(X, y)
    got = xt.predict(reg, tab, ds.chunk({"time": 4})).compute()
    expected = reference_map(reg.predict, tab, ds).transpose(*got.dims)
    xr.testing.assert_equal(got, expected.assign_attrs(got.attrs))
    clf = lightgbm.LGBMClassifier(**params).fit(X, y > 0)
    proba = xt.predict(clf, tab, ds, method="predict_proba")
    assert proba["class"].values.tolist() == [False, True]
    expected = reference_map(lambda X: clf.predict_proba(X)[:, 1], tab, ds)
    np.testing.assert_array_equal(
        proba.isel({"class": 1}).transpose(*expected.dims).values, expected.values
    )


def test_predict_proba_adds_a_class_dim(backend):
    ds = two_variables(time=10, lat=6, lon=7)
    ds = ds.assign(hot=(ds.heat > 0).astype("int8").transpose("time", "lat", "lon"))
    tab = make_tab(target=xt.Target("hot", lead={"time": 1})).fit(ds)
    X, y, _ = tab.tabularize(ds)
    clf = LogisticRegression(max_iter=500).fit(X, y)
    got = xt.predict(clf, tab, with_backend(ds, backend), method="predict_proba").compute()
    assert got.dims == ("time", "lat", "lon", "class")
    assert got["class"].values.tolist() == [0, 1]
    for k in range(2):
        expected = reference_map(lambda X, k=k: clf.predict_proba(X)[:, k], tab, ds)
        np.testing.assert_allclose(got.isel({"class": k}).values, expected.values, rtol=1e-6)
    with pytest.raises(TypeError, match="model must have a predict_proba method"):
        xt.predict(Ridge().fit(X, y), tab, ds, method="predict_proba")


def test_lazy_for_dask_data_with_blocks_that_follow_the_chunks(fitted_models, tmp_path):
    ds, tab, models = fitted_models
    model, _ = models["booster"]
    lazy = ds.chunk({"time": 3})
    with raise_if_dask_computes():
        pred = xt.predict(model, tab, lazy)
    assert pred.chunks is not None
    # chunked as the source (3 days), over the 10 days and the forecast day
    assert lazy.chunks["time"] == (3, 3, 3, 1)
    assert pred.chunks[pred.dims.index("time")] == (3, 3, 3, 2)
    assert pred.chunks[pred.dims.index("lat")] == (7,)
    eager = xt.predict(model, tab, ds)
    pred.to_dataset().to_zarr(tmp_path / "pred.zarr", consolidated=False)
    stored = xr.open_zarr(tmp_path / "pred.zarr", consolidated=False)["heat"]
    xr.testing.assert_equal(stored.load(), eager)
    assert stored.attrs["units"] == "K"


def test_xgboost_names_both_ways(fitted_models):
    """A booster trained through WindowDataIter (with feature names) predicts on what
    the package gives, and on a raw DMatrix with the names in one line."""
    ds, tab, models = fitted_models
    booster, _ = models["booster"]
    features = ds[["tasmax"]]
    frame = xt.WindowTabularizer(**tab.get_params()).set_output(transform="pandas")
    frame.fit(ds)
    by_frame = booster.predict(xgboost.DMatrix(frame.transform(features)))
    X = tab.transform(features)
    by_names = booster.predict(xgboost.DMatrix(X, feature_names=list(tab.get_feature_names_out())))
    np.testing.assert_array_equal(by_frame, by_names)
    with pytest.raises(ValueError, match="feature_names mismatch|did not contain feature names"):
        booster.predict(xgboost.DMatrix(X))  # why the names matter
    other = make_tab(input_dims={"lat": 3, "lon": 3, "time": 2}, input_overlap=None).fit(ds)
    with pytest.raises(ValueError, match="other features.*27 features at training, 18 now"):
        xt.predict(booster, other, ds)
    with pytest.raises(ValueError, match="use method='predict'"):
        xt.predict(booster, tab, ds, method="predict_proba")


def test_pipeline_with_the_tabularizer_first(fitted_models):
    ds, tab, models = fitted_models
    y = tab.target_values(ds)
    pipe = Pipeline([("tab", tab), ("model", Ridge())]).fit(ds, y)
    via_pipe = xt.predict(pipe, None, ds)
    direct = xt.predict(pipe[-1], tab, ds)
    xr.testing.assert_equal(via_pipe, direct)
    with pytest.raises(TypeError, match="tab may be None only when"):
        xt.predict(Ridge(), None, ds)
    # its own tabularizer passed as tab too: the same map; another one: refused by name
    # (it said "X must be an xarray.Dataset ... got ndarray")
    xr.testing.assert_equal(xt.predict(pipe, tab, ds), direct)
    with pytest.raises(TypeError, match=r"call xt.predict\(model, None, data\)"):
        xt.predict(pipe, clone(tab), ds)


def test_to_grid_keeps_attrs_and_takes_forecast_anchors():
    ds = two_variables()
    tab = make_tab().fit(ds)
    X, _, coords = tab.tabularize(ds[["tasmax"]])
    grid = tab.to_grid(X[:, 0], coords, like=ds)
    assert grid.attrs == ds.heat.attrs
    assert grid.sizes["time"] == ds.sizes["time"] + 1
    assert int(grid.notnull().sum()) == len(X)


# -- WindowModel and tuning the window -----------------------------------------------------


def test_window_model_fit_predict_score():
    ds = two_variables(time=16, lat=8, lon=9)
    model = xt.WindowModel(Ridge(alpha=1.0), make_tab())
    params = model.get_params()
    assert params["tab__input_dims"] == {"lat": 3, "lon": 3, "time": 3}
    assert params["estimator__alpha"] == 1.0
    model.set_params(estimator__alpha=2.0, tab__input_overlap={"time": 2})
    assert model.estimator.alpha == 2.0
    model.fit(ds)
    assert not hasattr(model.tab, "layout_")  # the parameter is not fitted
    tab = model.tab_
    X, y, _ = tab.tabularize(ds)
    assert model.score(ds) == pytest.approx(Ridge(alpha=2.0).fit(X, y).score(X, y), rel=1e-6)
    xr.testing.assert_equal(model.predict(ds), xt.predict(model.estimator_, tab, ds))


def test_window_model_takes_the_old_tabularizer_name_with_a_warning():
    ds = two_variables(time=12, lat=6, lon=7)
    new = xt.WindowModel(Ridge(), make_tab()).fit(ds)
    old = xt.WindowModel(tabularizer=make_tab(), estimator=Ridge())
    assert old.get_params()["tabularizer__input_dims"] == {"lat": 3, "lon": 3, "time": 3}
    with pytest.warns(FutureWarning, match=r"tabularizer=\.\.\.\) is deprecated"):
        old.fit(ds)
    xr.testing.assert_equal(old.predict(ds), new.predict(ds))
    with pytest.warns(FutureWarning, match="write WindowModel.tab_"):
        assert old.tabularizer_ is old.tab_
    with pytest.raises(TypeError, match="tab or the deprecated tabularizer, not both"):
        with pytest.warns(FutureWarning):
            xt.WindowModel(make_tab(), Ridge(), tabularizer=make_tab()).fit(ds)
    with pytest.raises(TypeError, match="WindowModel needs the estimator, then tab"):
        xt.WindowModel(estimator=Ridge()).fit(ds)


def test_grid_search_tunes_the_window_without_leakage():
    ds = two_variables(time=30, lat=6, lon=7)
    tomorrow = xt.Target("tasmax", lead={"time": 1})  # predictable: a best alpha is known
    model = xt.WindowModel(
        Ridge(solver="lsqr"),
        make_tab(input_overlap={"lat": 2, "lon": 2, "time": 2}, target=tomorrow),
    )
    grid = {
        "tab__input_dims": [
            {"lat": 3, "lon": 3, "time": 2},
            {"lat": 3, "lon": 3, "time": 4},
        ],
        "tab__input_overlap": [{"lat": 2, "lon": 2, "time": 1}],
        "estimator__alpha": [1e12, 0.1],  # the first shrinks every weight to nothing
    }
    data = WindowData(ds, dim="time")
    widest = make_tab(input_dims={"lat": 3, "lon": 3, "time": 4})
    cv = WindowBlockSplit(widest, n_splits=3, dim="time")
    search = GridSearchCV(model, grid, cv=cv).fit(data)
    assert search.best_params_["estimator__alpha"] == 0.1  # known, and not the first
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    shrunk = np.asarray(search.cv_results_["param_estimator__alpha"]) == 1e12
    assert scores[shrunk].max() < 0.1 < 0.9 < scores[~shrunk].min()  # R² near 0 against a fit
    assert search.best_estimator_.predict(ds).sizes["time"] == 31

    # brute force: in every fold and for every window tried, no training window (with
    # its label) shares a step with any test window
    for params in [
        {"input_dims": d, "input_overlap": o}
        for d in grid["tab__input_dims"]
        for o in grid["tab__input_overlap"]
    ]:
        tab = make_tab(**params)
        for train, test in cv.split(data):
            steps = {"train": set(), "test": set()}
            for part, idx in (("train", train), ("test", test)):
                for piece in data[idx].segments():
                    if piece.sizes["time"] < tab.input_dims["time"] + 1:
                        continue
                    coords = tab.fit(piece).sample_coords(piece)
                    anchors = ds.get_index("time").get_indexer(coords["time"])
                    width = tab.input_dims["time"]
                    for a in np.unique(anchors):
                        steps[part] |= set(range(a - width, a + 1))  # window and label
            assert steps["train"] and steps["test"]
            assert not steps["train"] & steps["test"]


def test_empty_folds_name_the_gap():
    ds = two_variables(time=20, lat=3, lon=3)
    tab = make_tab(input_dims={"time": 9}, input_overlap={"time": 8}).fit(ds)
    X, y, coords = tab.tabularize(ds)
    cv = WindowBlockSplit(tab, n_splits=5, coord=ds["time"])
    with pytest.raises(ValueError, match=r"fold 0 has no training sample.*gap of 9 steps"):
        list(cv.split(X, y, groups=coords))
    with pytest.raises(ValueError, match=r"has no training sample.*gap of 9 steps"):
        list(cv.split(WindowData(ds)))


def test_window_data_indexing_like_sklearn():
    ds = two_variables(time=10, lat=3, lon=3)
    data = WindowData(ds)
    assert len(data) == 10 and data.shape == (10,)
    picked = data[np.array([7, 0, 1, 8])]
    assert [p.sizes["time"] for p in picked.segments()] == [2, 2]
    assert picked.segments()[1].time.values[0] == ds.time.values[7]
    assert len(data[np.arange(10) % 2 == 0]) == 5
    assert len(data[(np.array([1, 2]), Ellipsis)]) == 2  # scikit-learn's X[key, ...]
    with pytest.raises(ValueError, match="must not repeat a step"):
        data[np.array([1, 1])]
    with pytest.raises(ValueError, match="dim 'depth' is not a dimension"):
        WindowData(ds, dim="depth")
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(TypeError, match="data must be an xarray"):
        WindowData(frame)


def test_the_last_days_without_the_target_give_tomorrows_rows():
    """The operational case: features only, exactly one window long. transform,
    sample_coords and a Pipeline's predict give the one window per cell whose label is
    tomorrow (they refused it as shorter than the window plus the lead, while
    xt.predict took it); the rows are the last days' values, read by hand."""
    from sklearn.pipeline import make_pipeline

    ds = two_variables()
    tab = make_tab(input_dims={"time": 3}, input_overlap={})  # tasmax -> heat tomorrow
    model = make_pipeline(tab, Ridge()).fit(ds, tab.fit(ds).target_values(ds))
    last = ds[["tasmax"]].isel(time=slice(-3, None))
    X = tab.transform(last)
    coords = tab.sample_coords(last)
    by_hand = np.stack(
        [
            last.tasmax.isel(lat=la, lon=lo).values
            for la, lo in zip(
                coords["lat"].map(list(ds.lat.values).index),
                coords["lon"].map(list(ds.lon.values).index),
                strict=True,
            )
        ]
    )
    np.testing.assert_array_equal(X, by_hand.astype(X.dtype))
    assert (coords["time"] == ds.time.values[-1] + np.timedelta64(1, "D")).all()
    assert len(X) == ds.sizes["lat"] * ds.sizes["lon"]
    np.testing.assert_allclose(model.predict(last), model[-1].predict(X))


def test_forecast_steps_are_checked_against_the_labels():
    """forecast_step in the labels' terms, by name: a number on time labels labelled
    the forecast a microsecond after the last day (noleap: the last day itself), zero or
    negative steps repeated or reversed the labels, a time delta on integer labels made
    them timedeltas; datetime.timedelta and "-1D" crashed. A positive step, by hand."""
    import datetime

    window = xt.WindowTabularizer(
        {"time": 2}, input_overlap={"time": 1}, target=xt.Target("tasmax", lead={"time": 1})
    )
    for calendar in ("standard", "noleap"):
        ds = xt.datasets.tasmax(time=8, lat=2, lon=2, calendar=calendar)
        X, y, _ = window.fit(ds).tabularize(ds)
        model = Ridge().fit(X, y)
        last = ds.time.values[-1]
        for step in (datetime.timedelta(days=1), np.timedelta64(1, "D"), "D", "1D"):
            pred = xt.predict(model, window, ds, forecast_step=step)
            assert pred.time.values[-1] == last + datetime.timedelta(days=1)
            assert pred.indexes["time"].is_unique and len(pred.time) == 9
        with pytest.raises(TypeError, match="forecast_step.* time delta such as"):
            xt.predict(model, window, ds, forecast_step=1)
        for bad in (np.timedelta64(0, "D"), np.timedelta64(-1, "D"), "-1D", "0D"):
            with pytest.raises(ValueError, match="forecast_step.* must step forward"):
                xt.predict(model, window, ds, forecast_step=bad)
        with pytest.raises(TypeError, match="forecast_step must be a number, a time delta"):
            xt.predict(model, window, ds, forecast_step=pd.DateOffset(days=1))
    hours = xt.datasets.tasmax(time=8, lat=2, lon=2).assign_coords(time=np.arange(8) * 6)
    X, y, _ = window.fit(hours).tabularize(hours)
    model = Ridge().fit(X, y)
    assert xt.predict(model, window, hours, forecast_step=6).time.values[-1] == 48
    with pytest.raises(TypeError, match="is a time delta; the labels are numeric"):
        xt.predict(model, window, hours, forecast_step=np.timedelta64(6, "h"))
    with pytest.raises(ValueError, match="must be a number > 0, got -1"):
        xt.predict(model, window, hours, forecast_step=-1)
    # lead times as timedelta labels (cfgrib's step): a time delta steps them
    steps = hours.assign_coords(time=np.arange(8) * np.timedelta64(6, "h"))
    X, y, _ = window.fit(steps).tabularize(steps)
    model = Ridge().fit(X, y)
    for step in (np.timedelta64(6, "h"), pd.Timedelta("6h")):
        pred = xt.predict(model, window, steps, forecast_step=step)
        assert pred.time.values[-1] == np.timedelta64(48, "h")
    with pytest.raises(TypeError, match="steps lead times .* np.timedelta64"):
        xt.predict(model, window, steps, forecast_step=6)
