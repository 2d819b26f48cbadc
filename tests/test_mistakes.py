"""The mistakes users make get an error that names them, where they are made; the
smaller silent wrong answers (weights by cast labels, 'nan' strings, overflowing
dtypes, stale flips, clashing export columns) are gone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.linear_model import LogisticRegression, Ridge, SGDRegressor

import xbatcher_tab as xt

from .support import run_cli

WINDOW = dict(
    input_dims={"lat": 3, "lon": 3, "time": 2},
    input_overlap={"lat": 2, "lon": 2, "time": 1},
    target=xt.Target("tasmax", lead={"time": 1}),
)


@pytest.fixture(scope="module")
def fitted():
    ds = xt.datasets.tasmax(time=10, lat=6, lon=7)
    tab = xt.WindowTabularizer(**WINDOW)
    X, y, coords = tab.tabularize(ds)
    return ds, tab, X, y, coords, Ridge().fit(X, y)


def test_swapped_and_wrong_arguments_are_named(fitted):
    ds, tab, X, y, coords, model = fitted
    with pytest.raises(TypeError, match=r"xt.predict takes \(model, tab, data\)"):
        xt.predict(tab, model, ds)
    with pytest.raises(TypeError, match="tab must be the fitted WindowTabularizer"):
        xt.predict(model, ds, tab)
    with pytest.raises(TypeError, match="data must be an xarray.Dataset"):
        xt.predict(model, tab, X)
    with pytest.raises(TypeError, match="fit_batches takes a WindowTabularizer .* got Dataset"):
        xt.fit_batches(SGDRegressor(), ds, tab)
    with pytest.raises(TypeError, match="WindowDataIter takes a WindowTabularizer"):
        xt.WindowDataIter(ds, tab)
    with pytest.raises(TypeError, match="needs the estimator, then tab.*got tab=Dataset"):
        xt.WindowModel(Ridge(), ds).fit(ds)
    with pytest.raises(TypeError, match="sample_weight takes the samples' coordinate frame"):
        xt.WindowTabularizer(**WINDOW, weight="coslat").fit(ds).sample_weight(ds)
    with pytest.raises(TypeError, match="got ndarray"):
        xt.weights.sample_weight(xt.weights.CosLat("lat"), X)
    with pytest.raises(TypeError, match="like must be the data as a Dataset or DataArray"):
        tab.to_grid(y, coords, like=coords)
    with pytest.raises(TypeError, match="to_grid takes the samples' coordinate frame"):
        tab.to_grid(y, ds)
    with pytest.raises(ValueError, match=r"lacks the dims \['lat'\]"):
        tab.count_samples(ds.rename(lat="latitude"))


def test_a_model_giving_the_wrong_number_of_values_is_named(fitted):
    ds, tab, X, y, coords, model = fitted

    class Half:
        def predict(self, rows):
            return np.zeros(len(rows) // 2)

    with pytest.raises(ValueError, match=r"gave \d+ values for \d+ rows: it must give one per"):
        xt.predict(Half(), tab, ds)


def test_to_grid_follows_a_series_index(fitted):
    ds, tab, X, y, coords, model = fitted
    series = pd.Series(y, index=coords.index)
    shuffled = series.sample(frac=1.0, random_state=0)
    xr.testing.assert_identical(
        tab.to_grid(shuffled, coords, like=ds), tab.to_grid(y, coords, like=ds)
    )
    with pytest.raises(ValueError, match="index is not the samples' ids"):
        tab.to_grid(pd.Series(y, index=coords.index + 10**6), coords)


def test_weights_and_masks_without_a_coordinate_are_refused():
    ds = xt.datasets.tasmax(time=6, lat=5, lon=4)
    bare = xr.DataArray(np.linspace(1, 2, 5), dims="lat")
    with pytest.raises(ValueError, match="weight has no coordinate along 'lat'"):
        xt.WindowTabularizer(input_dims={"time": 2}, weight=bare).fit(ds)
    labelled = bare.assign_coords(lat=ds.lat)
    tab = xt.WindowTabularizer(input_dims={"time": 2}, weight=labelled).fit(ds)
    _, _, coords = tab.tabularize(ds)
    expected = labelled.sel(lat=coords["lat"].to_xarray()).values
    np.testing.assert_array_equal(tab.sample_weight(coords), expected)
    mask = xr.DataArray(np.ones((5, 4), bool), dims=("lat", "lon"))
    with pytest.raises(ValueError, match="where has no coordinate along 'lat'"):
        xt.WindowTabularizer(input_dims={"time": 2}, where=mask).tabularize(ds)


def test_string_class_labels_leave_missing_cells_missing():
    ds = xt.datasets.tasmax(time=10, lat=6, lon=7)
    ds["kind"] = xr.where(ds.tasmax > 270, "warm", "cold")
    tab = xt.WindowTabularizer(**{**WINDOW, "target": xt.Target("kind", lead={"time": 1})})
    tab.set_params(variables=["tasmax"])
    X, y, coords = tab.tabularize(ds)
    model = LogisticRegression(max_iter=200).fit(X, y)
    pred = xt.predict(model, tab, ds)
    assert pred.dtype == object
    assert set(pred.values[pred.notnull().values]) <= {"warm", "cold"}
    assert int(pred.isnull().sum()) == pred.size - len(X) - 5 * 4  # edges + forecast-less
    assert "nan" not in set(map(str, pred.values[pred.notnull().values]))
    grid = tab.to_grid(y, coords, like=ds)
    assert grid.dtype == object and int(grid.notnull().sum()) == len(y)


@pytest.mark.parametrize(
    ("dtype", "values", "match"),
    [
        ("int8", None, "not integers"),
        ("int32", "nan", "holds NaN"),
        ("int8", "round", "outside dtype int8's range"),
        ("float16", "huge", "beyond dtype float16's largest value"),
    ],
)
def test_dtypes_that_would_change_the_values_are_refused(dtype, values, match):
    ds = xt.datasets.tasmax(time=6, lat=4, lon=5)
    if values == "nan":
        ds = ds.round().where(ds.lat > -90)
    elif values == "round":
        ds = ds.round()
    elif values == "huge":
        ds = ds * 1000.0
    with pytest.raises(ValueError, match=match):
        xt.WindowTabularizer(input_dims={"time": 2}, dtype=dtype).fit_transform(ds)


def test_integer_dtypes_keep_integer_data():
    ds = xt.datasets.tasmax(time=6, lat=4, lon=5).round()
    X = xt.WindowTabularizer(input_dims={"time": 2}, dtype="int32").fit_transform(ds)
    Xf = xt.WindowTabularizer(input_dims={"time": 2}).fit_transform(ds)
    assert X.dtype == np.int32
    np.testing.assert_array_equal(X, Xf)


def test_flip_follows_a_refit_with_other_windows():
    ds = xt.datasets.tasmax(time=8, lat=5, lon=6)
    tab = xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3}, target="tasmax")
    flip = xt.augment.flip(tab, dims=["lon"], p=np.float32(1.0))
    X3 = tab.fit_transform(ds)
    flipped3, _, _ = flip(X3.copy(), None, None, np.random.default_rng(0))
    np.testing.assert_array_equal(flipped3, X3.reshape(-1, 3, 3)[:, :, ::-1].reshape(len(X3), 9))
    tab.set_params(input_dims={"lat": 2, "lon": 5}).fit(ds)  # the same augmentation
    X5 = tab.transform(ds)
    flipped5, _, _ = flip(X5.copy(), None, None, np.random.default_rng(0))
    np.testing.assert_array_equal(flipped5, X5.reshape(-1, 2, 5)[:, :, ::-1].reshape(len(X5), 10))


def test_export_refuses_columns_that_would_clash(tmp_path, capsys):
    ds = xt.datasets.tasmax(time=6, lat=4, lon=5).rename(lon="label")
    path = tmp_path / "clash.nc"
    ds.to_netcdf(path)
    out = tmp_path / "t.parquet"
    proc = run_cli(
        capsys, "export", path, "--input-dims", "time=2", "--target", "tasmax:time+1", "--out", out
    )
    assert proc.returncode == 2 and "several columns named ['label']" in proc.stderr
    assert not out.exists()


def test_window_model_predicts_a_proper_grid_for_gapped_data():
    """A held-out gap of one step, shorter than the lead: each piece predicts its own
    steps, only the last one forecasts, so the map's times are unique and increasing."""
    ds = xt.datasets.tasmax(time=20, lat=5, lon=6)
    lead = xt.Target("tasmax", lead={"time": 2})
    tab = xt.WindowTabularizer(input_dims={"time": 3}, input_overlap={"time": 2}, target=lead)
    model = xt.WindowModel(Ridge(), tab).fit(ds)
    data = xt.WindowData(ds)[np.r_[0:9, 10:20]]
    pred = model.predict(data)
    times = pred.get_index("time")
    assert times.is_unique and times.is_monotonic_increasing
    assert ds.time.values[9] not in times  # the gap
    assert times[-1] == ds.time.values[-1] + np.timedelta64(2, "D")  # the last forecast


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input-dims", "lat=3,lat=4"], "--input-dims names 'lat' twice"),
        (["--input-dims", "time=2", "--target", "tasmax:"], "--target expects VAR or"),
        (["--input-dims", "time=2", "--chunks", "foo=3"], "--chunks names dims ['foo']"),
        (["--input-dims", "time=2", "--variables", ""], "--variables expects VAR,..."),
    ],
)
def test_the_command_refuses_bad_lists_before_work(tmp_path, capsys, args, message):
    path = tmp_path / "data.nc"
    xt.datasets.tasmax(time=6, lat=4, lon=5).to_netcdf(path)
    proc = run_cli(capsys, "plan", path, *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_demo_refuses_a_file_as_its_folder_before_any_work(tmp_path, capsys):
    taken = tmp_path / "maps"
    taken.write_text("a file")
    proc = run_cli(capsys, "demo", "--out", taken)
    assert proc.returncode == 2 and "is a file" in proc.stderr
    assert taken.read_text() == "a file"


def test_a_window_over_a_dim_no_chosen_variable_has_is_named():
    """Windowing time over variables without time was a bare KeyError at transform."""
    ds = xt.datasets.tasmax(time=8, lat=6, lon=7)
    ds["c"] = ds.tasmax.isel(time=0, drop=True)
    tab = xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3, "time": 2}, variables=["c"])
    with pytest.raises(ValueError, match=r"input_dims names \['time'\], which none of"):
        tab.fit(ds)
    with_target = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 2},
        variables=["c"],
        target=xt.Target("tasmax", lead={"time": 1}),
    ).fit(ds)  # the target has time: windows span it, the feature is broadcast
    assert with_target.tabularize(ds).X.shape[0] > 0
