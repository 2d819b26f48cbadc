"""Sample weights (cos latitude or a DataArray) reaching every trainer, and area-weighted
scores of a predicted map."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import xbatcher_tab as xt


def make(weight, **kw):
    return xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 2},
        input_overlap={"lat": 2, "lon": 2, "time": 1},
        target=xt.Target("tasmax", lead={"time": 1}),
        weight=weight,
        **kw,
    )


@pytest.fixture
def ds():
    return xt.datasets.tasmax(time=8, lat=9, lon=10)


def test_coslat_is_the_cosine_of_each_anchors_latitude(ds):
    tab = make("coslat")
    X, y, coords = tab.tabularize(ds)
    w = tab.sample_weight(coords)
    np.testing.assert_array_equal(w, np.cos(np.deg2rad(coords["lat"].to_numpy())))
    # a batch, shuffled: the weights follow its rows
    batch = next(iter(tab.iter_batches(ds, batch_size=50, shuffle=True, random_state=3)))
    np.testing.assert_array_equal(
        tab.sample_weight(batch.coords), np.cos(np.deg2rad(batch.coords["lat"].to_numpy()))
    )


def test_latitude_found_by_cf_attributes_or_name(ds):
    renamed = ds.rename(lat="y")
    renamed["y"].attrs = {"units": "degrees_north"}
    tab = make("coslat").set_params(input_dims={"y": 3, "lon": 3, "time": 2}, input_overlap={})
    _, _, coords = tab.tabularize(renamed)
    np.testing.assert_array_equal(
        tab.sample_weight(coords), np.cos(np.deg2rad(coords["y"].to_numpy()))
    )
    renamed["y"].attrs = {}
    with pytest.raises(ValueError, match="weight='coslat' needs a latitude coordinate"):
        tab.fit(renamed)


def test_dataarray_weights_by_label_and_by_cell(ds):
    rng = np.random.default_rng(0)
    land = xr.DataArray(
        rng.random((9, 10)), dims=("lat", "lon"), coords={"lat": ds.lat, "lon": ds.lon}
    )
    tab = make(land.isel(lat=slice(None, None, -1)))  # listed in another order: by label
    _, _, coords = tab.tabularize(ds)
    expected = land.sel(lat=coords["lat"].to_xarray(), lon=coords["lon"].to_xarray()).values
    np.testing.assert_array_equal(tab.sample_weight(coords), expected)
    plain = ds.drop_vars(["lat", "lon"])  # no coordinates: by cell
    tab = make(land.drop_vars(["lat", "lon"]))
    _, _, coords = tab.tabularize(plain)
    expected = land.values[coords["lat"].to_numpy(), coords["lon"].to_numpy()]
    np.testing.assert_array_equal(tab.sample_weight(coords), expected)


@pytest.mark.parametrize(
    ("weight", "error", "match"),
    [
        ("area", ValueError, "weight must be None, 'coslat' or a DataArray over .*, got 'area'"),
        (1.0, TypeError, "weight must be None, 'coslat' or a DataArray"),
        (xr.DataArray(np.ones(3), dims="lev"), ValueError, "weight has dims \\['lev'\\]"),
    ],
)
def test_bad_weights_are_named(ds, weight, error, match):
    with pytest.raises(error, match=match):
        make(weight).fit(ds)


def test_weights_that_are_not_finite_and_non_negative_are_refused(ds):
    """NaN or negative weights at a sample's anchor reached the estimators, which failed
    with messages of their own (or, xgboost, trained on them): refused, naming the fix;
    NaN where no sample is anchored (the ocean, under where=land) is fine."""
    lat = ds.lat.values
    for bad in (np.nan, -1.0):
        values = np.ones(lat.size)
        values[2] = bad
        weight = xr.DataArray(values, dims="lat", coords={"lat": lat})
        tab = make(weight).fit(ds)
        with pytest.raises(ValueError, match="weight must be finite and >= 0 at every sample"):
            tab.sample_weight(tab.sample_coords(ds))
        away = xt.WindowTabularizer(
            input_dims={"time": 2},
            target=xt.Target("tasmax", lead={"time": 1}),
            weight=weight,
            where=xr.DataArray(np.arange(lat.size) != 2, dims="lat", coords={"lat": lat}),
        ).fit(ds)
        _, _, coords = away.tabularize(ds)
        assert np.isfinite(away.sample_weight(coords)).all() and len(coords)


def test_missing_labels_and_no_weight_are_named(ds):
    half = xr.DataArray(np.ones(4), dims="lat", coords={"lat": ds.lat.values[:4]})
    tab = make(half).fit(ds)
    with pytest.raises(ValueError, match="along 'lat' are not on weight's coordinate"):
        tab.sample_weight(tab.sample_coords(ds))
    plain = make(None).fit(ds)
    with pytest.raises(ValueError, match="the tabularizer has no weight"):
        plain.sample_weight(plain.sample_coords(ds))


def test_weighted_partial_fit_equals_sklearn_on_the_whole_table(ds):
    tab = make("coslat")
    X, y, coords = tab.tabularize(ds)
    w = tab.sample_weight(coords)
    ours = xt.fit_batches(SGDRegressor(random_state=0), tab, ds, batch_size=len(y), shuffle=False)
    theirs = SGDRegressor(random_state=0).partial_fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
    unweighted = SGDRegressor(random_state=0).partial_fit(X, y)
    assert not np.array_equal(ours.coef_, unweighted.coef_)
    # batch by batch, a pipeline: every step that takes weights gets each batch's
    ours = xt.fit_batches(
        make_pipeline(StandardScaler(), SGDRegressor(random_state=0)),
        tab,
        ds,
        batch_size=37,
        shuffle=False,
    )
    scaler, sgd = StandardScaler(), SGDRegressor(random_state=0)
    batches = list(tab.iter_batches(ds, batch_size=37))
    for b in batches:
        scaler.partial_fit(b.X, b.y, sample_weight=tab.sample_weight(b.coords))
    for b in batches:
        sgd.partial_fit(scaler.transform(b.X), b.y, sample_weight=tab.sample_weight(b.coords))
    np.testing.assert_allclose(ours[0].mean_, scaler.mean_)
    np.testing.assert_array_equal(ours[-1].coef_, sgd.coef_)


def test_partial_fit_refuses_a_last_step_without_weights(ds):
    class NoWeights(SGDRegressor):
        def partial_fit(self, X, y):
            return super().partial_fit(X, y)

    with pytest.raises(TypeError, match="takes no sample_weight, but the tabularizer has a weight"):
        xt.fit_batches(NoWeights(), make("coslat"), ds)


def test_xgboost_trains_with_the_weights_of_the_window_iterator(ds):
    xgboost = pytest.importorskip("xgboost")
    tab = make("coslat")
    X, y, coords = tab.tabularize(ds)
    w = tab.sample_weight(coords)
    params = {"max_depth": 3, "eta": 0.3, "seed": 0, "nthread": 1, "max_bin": 64}
    names = [str(n) for n in tab.get_feature_names_out()]
    streamed = xgboost.QuantileDMatrix(xt.WindowDataIter(tab, ds, batch_size=len(y)), max_bin=64)
    in_memory = xgboost.QuantileDMatrix(X, y, weight=w, max_bin=64, feature_names=names)
    np.testing.assert_array_equal(streamed.get_weight(), w.astype(np.float32))
    a = xgboost.train(params, streamed, num_boost_round=5).predict(in_memory)
    b = xgboost.train(params, in_memory, num_boost_round=5).predict(in_memory)
    np.testing.assert_array_equal(a, b)
    # batches of any size carry their rows' weights
    batched = xgboost.QuantileDMatrix(xt.WindowDataIter(tab, ds, batch_size=41), max_bin=64)
    np.testing.assert_allclose(batched.get_weight(), w, rtol=1e-6)


@pytest.mark.parametrize("estimator", ["ridge", "lightgbm"])
def test_window_model_fits_and_scores_with_the_weights(ds, estimator):
    if estimator == "lightgbm":
        lightgbm = pytest.importorskip("lightgbm")
        est = lightgbm.LGBMRegressor(n_estimators=5, verbose=-1, random_state=0)
    else:
        est = Ridge(solver="lsqr")
    tab = make("coslat")
    model = xt.WindowModel(est, tab).fit(ds)
    X, y, coords = tab.tabularize(ds)
    w = tab.sample_weight(coords)
    reference = type(est)(**est.get_params()).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(model.estimator_.predict(X), reference.predict(X), rtol=1e-6)
    assert model.score(ds) == pytest.approx(reference.score(X, y, sample_weight=w))


def test_rmse_and_mae_equal_brute_force_weighted_means():
    rng = np.random.default_rng(1)
    truth = xt.datasets.tasmax(time=4, lat=6, lon=5).tasmax
    pred = truth + rng.normal(size=truth.shape)
    pred[0, 0, 0] = np.nan  # a map edge without a sample
    err = (pred - truth).values
    cos = np.cos(np.deg2rad(truth.lat.values))[None, :, None] * np.ones(truth.shape)
    ok = ~np.isnan(err)
    expected = np.sqrt(np.sum(cos[ok] * err[ok] ** 2) / np.sum(cos[ok]))
    assert float(xt.metrics.rmse(pred, truth, weight="coslat")) == pytest.approx(expected)
    expected = np.sum(cos[ok] * np.abs(err[ok])) / np.sum(cos[ok])
    assert float(xt.metrics.mae(pred, truth, weight="coslat")) == pytest.approx(expected)
    assert float(xt.metrics.rmse(pred, truth)) == pytest.approx(np.sqrt(np.mean(err[ok] ** 2)))
    per_time = xt.metrics.rmse(pred, truth, weight="coslat", dim=("lat", "lon"))
    for t in range(4):
        e, c, k = err[t], cos[t], ok[t]
        assert float(per_time[t]) == pytest.approx(np.sqrt(np.sum(c[k] * e[k] ** 2) / np.sum(c[k])))
    # the predicted map of a model is on a sub-grid: only common cells count
    assert float(xt.metrics.rmse(pred.isel(lat=slice(1, 4)), truth)) == pytest.approx(
        np.sqrt(np.nanmean(err[:, 1:4] ** 2))
    )
    with pytest.raises(ValueError, match="weight must be None, 'coslat' or a DataArray"):
        xt.metrics.mae(pred, truth, weight="area")
    with pytest.raises(TypeError, match="predicted must be a DataArray"):
        xt.metrics.rmse(pred.values, truth)


def test_window_model_gives_a_pipelines_last_step_the_weights(ds):
    """A Pipeline in WindowModel with a weighted tabularizer: the weights go to its last
    step by name (Pipeline.fit takes no sample_weight: it could not be fitted); the
    same model as the Pipeline fitted by hand, and scored with the weights."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    tab = make("coslat")
    model = xt.WindowModel(make_pipeline(StandardScaler(), Ridge()), tab).fit(ds)
    X, y, coords = tab.tabularize(ds)
    w = tab.sample_weight(coords)
    by_hand = make_pipeline(StandardScaler(), Ridge()).fit(X, y, ridge__sample_weight=w)
    np.testing.assert_allclose(model.estimator_.predict(X), by_hand.predict(X), rtol=1e-6)
    assert model.score(ds) == pytest.approx(by_hand.score(X, y, sample_weight=w))
