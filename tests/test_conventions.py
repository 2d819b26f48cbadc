"""Real files as they come: CMIP6 (bounds variables, cftime calendars) and ERA5
(descending latitude, hourly time, long names) conventions, written to netCDF by the
tests and read back as a user would, give the right table, batches, maps, splits and
exports, or a clear refusal; never a silent wrong answer."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score

import xbatcher_tab as xt
from xbatcher_tab.cli import main
from xbatcher_tab.model_selection import WindowBlockSplit, WindowData, window_scorer
from xbatcher_tab.testing import reference_table

from .support import concat_batches

WINDOW = dict(
    input_dims={"lat": 3, "lon": 3, "time": 3},
    input_overlap={"lat": 2, "lon": 2, "time": 2},
    target=xt.Target("tasmax", lead={"time": 1}),
)


def written(ds: xr.Dataset, path, chunks=None) -> xr.Dataset:
    """``ds`` written to netCDF and opened again, as xarray decodes a file."""
    ds.to_netcdf(path, engine="netcdf4")
    return xr.open_dataset(path, engine="netcdf4", chunks=chunks)


@pytest.fixture(scope="module", params=["ascending", "descending"])
def cmip6(request, tmp_path_factory):
    """A CMIP6-like file: tasmax (K) on a noleap calendar with time/lat/lon bounds, its
    latitude stored either way; and the same values in memory without bounds."""
    plain = xt.datasets.tasmax(time=59, lat=12, lon=16, calendar="noleap")
    with_bounds = xt.datasets.tasmax(time=59, lat=12, lon=16, calendar="noleap", bounds=True)
    if request.param == "descending":
        with_bounds = with_bounds.isel(lat=slice(None, None, -1))
    path = tmp_path_factory.mktemp("cmip6") / "tasmax_day_noleap.nc"
    return written(with_bounds, path), plain, path


def test_cmip6_bounds_are_not_features_and_tables_agree(cmip6):
    ds, plain, _ = cmip6
    assert {"time_bnds", "lat_bnds", "lon_bnds"} <= set(ds.data_vars)
    assert ds.time.dt.calendar == "noleap"
    tab = xt.WindowTabularizer(**WINDOW).fit(ds)
    assert tab.variables_ == ["tasmax"] and "bnds" not in tab.dims_
    assert set(tab.skipped_variables_) == {"time_bnds", "lat_bnds", "lon_bnds"}
    X, y, coords = tab.tabularize(ds)
    X0, y0, c0 = tab.tabularize(plain)  # without bounds, latitude either way
    assert len(X) == 56 * 10 * 14  # once each, not once per bound
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    pd.testing.assert_frame_equal(coords, c0)
    # batches, shuffled, from the file read lazily: the same rows
    lazy = xr.open_dataset(cmip6[2], engine="netcdf4", chunks={"time": 20})
    batches = list(tab.iter_batches(lazy, batch_size=1000, shuffle=True, random_state=0))
    Xb, yb, cb = concat_batches(batches)
    order = coords.index.get_indexer(cb.index)
    np.testing.assert_array_equal(Xb, X[order])
    np.testing.assert_array_equal(yb, y[order])
    # lazily as dask, and split by label along the calendar's days
    Xd, yd, cd = tab.to_dask(lazy)
    np.testing.assert_array_equal(Xd.compute(), X)
    pd.testing.assert_frame_equal(cd, coords)
    folds = list(WindowBlockSplit(tab, n_splits=3, coord=ds.time).split(X, y, coords))
    assert len(folds) == 3 and sorted(np.concatenate([te for _, te in folds])) == list(
        range(len(X))
    )
    grid = tab.to_grid(y, coords, like=ds)
    assert grid.time.values[0] == ds.time.values[0] and int(grid.notnull().sum()) == len(y)


def test_cmip6_predict_forecasts_in_the_calendar_and_keeps_cf(cmip6, tmp_path):
    ds, plain, _ = cmip6
    tab = xt.WindowTabularizer(**WINDOW)
    X, y, _ = tab.tabularize(ds)
    model = Ridge(solver="lsqr").fit(X, y)
    pred = xt.predict(model, tab, ds)
    # the data ends on 28 February 1850 (noleap): the forecast is for 1 March
    assert str(pred.time.values[-2]) == "1850-02-28 12:00:00"
    assert str(pred.time.values[-1]) == "1850-03-01 12:00:00"
    assert pred.time.encoding.get("calendar") == "noleap"
    assert pred.lat.attrs["standard_name"] == "latitude" and pred.attrs["units"] == "K"
    assert list(pred.lat.values) == list(ds.lat.values)  # the fitted direction
    same = xt.predict(model, tab, plain)
    np.testing.assert_array_equal(pred.values, same.values)
    pred.to_dataset().to_zarr(tmp_path / "pred.zarr")  # CF time written back
    back = xr.open_zarr(tmp_path / "pred.zarr")
    assert back.time.dt.calendar == "noleap"
    truth = plain.tasmax
    assert float(xt.metrics.rmse(pred, truth, weight="coslat")) == pytest.approx(
        float(xt.metrics.rmse(truth, pred, weight="coslat"))
    )


def test_cmip6_model_selection_and_export(cmip6, tmp_path, capsys):
    ds, plain, path = cmip6
    tab = xt.WindowTabularizer(**WINDOW)
    model = xt.WindowModel(Ridge(solver="lsqr"), tab)
    cv = WindowBlockSplit(tab, n_splits=3)
    rmse = window_scorer("neg_root_mean_squared_error")
    scores = cross_val_score(model, WindowData(ds), cv=cv, scoring=rmse)
    assert scores.shape == (3,) and np.all(np.isfinite(scores)) and np.all(scores < 0)
    fitted = model.fit(WindowData(ds)[np.r_[0:25, 35:59]])
    assert fitted.predict(ds).time.encoding.get("calendar") == "noleap"
    # the command exports the same table; cftime labels as ISO strings
    out = tmp_path / "table.parquet"
    args = ["export", path, "--input-dims", "lat=3,lon=3,time=3", "--overlap", "lat=2,lon=2,time=2"]
    assert main([*map(str, args), "--target", "tasmax:time+1", "--out", str(out), "--quiet"]) == 0
    table = pd.read_parquet(out)
    X, y, coords = tab.fit(ds).tabularize(plain)
    np.testing.assert_array_equal(table[list(tab.get_feature_names_out())].to_numpy(), X)
    np.testing.assert_array_equal(table["label"].to_numpy(), y)
    assert table["time"].iloc[0] == "1850-01-04T12:00:00"  # the first label: day 4
    np.testing.assert_array_equal(table["lat"].to_numpy(), coords["lat"].to_numpy())
    import pyarrow.parquet as pq

    assert pq.read_schema(out).metadata[b"xbatcher_tab:calendar:time"] == b"noleap"


@pytest.fixture(scope="module")
def era5(tmp_path_factory):
    """An ERA5-like file: hourly ``t2m`` on ``valid_time``, ``latitude`` from north to
    south, ``longitude`` 0..360."""
    base = xt.datasets.tasmax(time=48, lat=10, lon=16)
    hours = pd.date_range("2024-01-01", periods=48, freq="h")
    ds = base.assign_coords(time=hours).rename(
        time="valid_time", lat="latitude", lon="longitude", tasmax="t2m"
    )
    ds = ds.isel(latitude=slice(None, None, -1))
    path = tmp_path_factory.mktemp("era5") / "era5_t2m.nc"
    return written(ds, path), path


def test_era5_descending_latitude_hourly_time(era5):
    ds, path = era5
    assert ds.latitude.values[0] > ds.latitude.values[-1]
    window = dict(
        input_dims={"latitude": 3, "longitude": 3, "valid_time": 4},
        input_overlap={"latitude": 2, "longitude": 2, "valid_time": 3},
        target=xt.Target("t2m", lead={"valid_time": 1}),
        boundary={"longitude": "periodic"},
        coord_features={"valid_time.hour": "cyclic"},
    )
    tab = xt.WindowTabularizer(**window)
    X, y, coords = tab.tabularize(ds)
    assert coords["latitude"].iloc[0] > coords["latitude"].iloc[-1]  # fitted as stored
    lazy = xr.open_dataset(path, engine="netcdf4", chunks={"valid_time": 12})
    Xb, yb, cb = concat_batches(list(tab.iter_batches(lazy, batch_size=500)))
    np.testing.assert_array_equal(Xb, X)
    pd.testing.assert_frame_equal(cb, coords)
    hours = pd.DatetimeIndex(coords["valid_time"]).hour.to_numpy()
    np.testing.assert_allclose(X[:, -2], np.sin(2 * np.pi * hours / 24), atol=1e-6)
    model = Ridge(solver="lsqr").fit(X, y)
    pred = xt.predict(model, tab, lazy).compute()
    assert pred.valid_time.values[-1] == ds.valid_time.values[-1] + np.timedelta64(1, "h")
    assert int(pred.isel(valid_time=-1).notnull().sum()) == 8 * 16  # every longitude
    # the same data stored south to north: the same table, and the same map
    north_up = ds.isel(latitude=slice(None, None, -1))
    X2, y2, c2 = tab.tabularize(north_up)
    np.testing.assert_array_equal(X2, X)
    pd.testing.assert_frame_equal(c2, coords)
    xr.testing.assert_identical(xt.predict(model, tab, north_up), pred)


def test_reversed_latitude_predict_equals_the_ascending_one():
    """A field moving north, fitted south to north: the north-to-south copy gives the
    same map cell for cell (its windows are not mirrored)."""
    ds = xt.datasets.tasmax(time=20, lat=14, lon=12)
    north = ds.copy(data={"tasmax": np.roll(ds.tasmax.values, 1, axis=1)})
    tab = xt.WindowTabularizer(**WINDOW)
    X, y, _ = tab.tabularize(north)
    model = Ridge(solver="lsqr").fit(X, y)
    up = xt.predict(model, tab, north)
    down = xt.predict(model, tab, north.isel(lat=slice(None, None, -1)))
    xr.testing.assert_identical(down, up)
    assert list(down.lat.values) == sorted(down.lat.values)  # the fitted direction
    # a sample dim listed in another order: the same table
    time_only = xt.WindowTabularizer(input_dims={"time": 3}, target=WINDOW["target"])
    X1, y1, c1 = time_only.tabularize(north)
    shuffled = north.isel(lon=np.random.default_rng(0).permutation(12))
    X2, y2, c2 = time_only.tabularize(shuffled)
    np.testing.assert_array_equal(X2, X1)
    pd.testing.assert_frame_equal(c2, c1)


def test_coordinates_that_windows_cannot_use_are_refused():
    ds = xt.datasets.tasmax(time=12, lat=6, lon=7)
    tab = xt.WindowTabularizer(**WINDOW)
    with pytest.raises(ValueError, match="'time' coordinate runs backwards"):
        tab.fit(ds.isel(time=slice(None, None, -1)))
    repeated = ds.assign_coords(time=np.r_[ds.time.values[:6], ds.time.values[:6]])
    with pytest.raises(ValueError, match="'time' coordinate repeats labels"):
        tab.fit(repeated)
    unsorted = ds.isel(lat=[0, 2, 1, 3, 4, 5])
    with pytest.raises(ValueError, match="'lat' coordinate is not sorted"):
        tab.fit(unsorted)
    tab.fit(ds)
    with pytest.raises(ValueError, match="'lat' coordinate is not sorted"):
        tab.transform(unsorted)
    backwards = tab.transform(ds.isel(time=slice(None, None, -1)))  # reversed: fine
    np.testing.assert_array_equal(backwards, tab.transform(ds))


def test_datetime_features_do_not_depend_on_the_resolution(tmp_path):
    ds = xt.datasets.tasmax(time=10, lat=4, lon=5)
    tab = xt.WindowTabularizer(input_dims={"time": 2}, coord_features=["time"]).fit(ds)
    in_memory = tab.transform(ds)[:, -1]
    for unit in ("s", "ms", "ns"):
        again = ds.assign_coords(time=ds.time.values.astype(f"datetime64[{unit}]"))
        np.testing.assert_array_equal(tab.transform(again)[:, -1], in_memory)
    back = tab.transform(written(ds, tmp_path / "t.nc"))[:, -1]
    np.testing.assert_array_equal(back, in_memory)
    days = (ds.time.values[1] - np.datetime64("1970-01-01")) / np.timedelta64(1, "D")
    assert in_memory[0] == np.float32(days)  # days since 1970-01-01, at the anchor


@pytest.mark.parametrize("calendar", ["noleap", "360_day", "all_leap", "julian", "standard"])
def test_calendar_fields_in_every_calendar(calendar):
    ds = xt.datasets.tasmax(time=400, lat=3, lon=3, calendar=calendar).isel(time=slice(350, 400))
    options = dict(
        input_dims={"time": 2},
        coord_features={"time.dayofyear": "cyclic", "time.month": "raw"},
        target=xt.Target("tasmax", lead={"time": 1}),
    )
    X, _, _ = xt.WindowTabularizer(**options).tabularize(ds)
    X_ref, _, _ = reference_table(
        ds,
        {"time": 2},
        target="tasmax",
        lead={"time": 1},
        coord_features=[("time.dayofyear", "cyclic"), ("time.month", "raw")],
    )
    np.testing.assert_allclose(X, X_ref, rtol=1e-6, atol=1e-6)


def test_monthly_data_predicts_inside_and_forecasts_when_it_can():
    """Mid-month stamps (CMIP6 monthly) have no step and no frequency: the cells inside
    are predicted, the forecast is left out with a warning or labelled by a given step;
    month-start stamps forecast the next month."""
    mid = xr.date_range("2000-01-01", periods=24, freq="MS", calendar="noleap", use_cftime=True)
    mid = [t.replace(day=16) for t in mid]
    ds = xt.datasets.tasmax(time=24, lat=4, lon=5).assign_coords(time=np.array(mid))
    tab = xt.WindowTabularizer(input_dims={"time": 3}, target=xt.Target("tasmax", lead={"time": 1}))
    X, y, _ = tab.tabularize(ds)
    model = Ridge().fit(X, y)
    with pytest.warns(UserWarning, match="leaves out the forecasts past the end of 'time'"):
        inside = xt.predict(model, tab, ds)
    assert inside.sizes["time"] == 24 and int(inside.notnull().sum()) == len(X)
    with pytest.raises(ValueError, match="give forecast_step="):
        xt.predict(model, tab, ds, forecast=True)
    stepped = xt.predict(model, tab, ds, forecast_step="MS")
    assert str(stepped.time.values[-1])[:10] == "2002-01-01"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: asked for no forecast
        assert xt.predict(model, tab, ds, forecast=False).sizes["time"] == 24
    starts = ds.assign_coords(time=[t.replace(day=1) for t in mid])
    monthly = xt.predict(model, tab, starts)  # the frequency is inferred: MS
    assert str(monthly.time.values[-1])[:10] == "2002-01-01"
    gappy = ds.assign_coords(time=np.r_[np.arange(12), np.arange(15, 27)])
    with pytest.warns(UserWarning):  # numbers: irregular, not known gappy (see below)
        assert int(xt.predict(model, tab, gappy).notnull().sum()) == len(X)


def test_periodic_means_the_whole_circle():
    ds = xt.datasets.tasmax(time=6, lat=5, lon=12)
    periodic = dict(input_dims={"lon": 3}, boundary={"lon": "periodic"})
    assert xt.WindowTabularizer(**periodic).fit(ds).layout_.periods == {"lon": 360.0}
    regional = ds.isel(lon=slice(2, 6))
    with pytest.raises(ValueError, match="span 120 of the period 360, leaving a gap of 240"):
        xt.WindowTabularizer(**periodic).fit(regional)
    tab = xt.WindowTabularizer(**periodic).fit(ds)
    with pytest.raises(ValueError, match="joins the two edges of 'lon'"):
        tab.transform(regional)
    hours = ds.rename(lon="hour").assign_coords(hour=np.arange(12) * 2.0)
    day = dict(input_dims={"hour": 3}, boundary={"hour": ("periodic", 24)})
    assert xt.WindowTabularizer(**day).fit(hours).layout_.periods == {"hour": 24.0}
    with pytest.raises(ValueError, match="span 12 of the period 24"):
        xt.WindowTabularizer(**day).fit(hours.isel(hour=slice(0, 6)))
    with pytest.raises(ValueError, match="needs a positive period"):
        xt.WindowTabularizer(input_dims={"hour": 3}, boundary={"hour": ("periodic", 0)}).fit(hours)


def test_grid_search_over_windows_with_a_scorer_name():
    ds = xt.datasets.tasmax(time=30, lat=6, lon=7)
    model = xt.WindowModel(Ridge(solver="lsqr"), xt.WindowTabularizer(**WINDOW))
    search = GridSearchCV(
        model,
        {"estimator__alpha": [1e12, 0.1]},
        cv=WindowBlockSplit(xt.WindowTabularizer(**WINDOW), n_splits=3),
        scoring=window_scorer({"rmse": "neg_root_mean_squared_error", "r2": "r2"}),
        refit="rmse",
    ).fit(WindowData(ds))
    assert search.best_params_ == {"estimator__alpha": 0.1}  # known, and not the first
    rmse = search.cv_results_["mean_test_rmse"]
    assert np.all(np.isfinite(rmse)) and rmse[1] > rmse[0]
    assert search.cv_results_["mean_test_r2"][1] > 0.9


def test_a_missing_day_is_refused_and_filling_it_drops_the_windows_across_it():
    """Daily data without 5 January: a window must not take the 4th as the 6th's
    "time-1" (it did, silently). Refused with the gap named; reindexed onto every day
    (the missing one NaN) with dropna=True, exactly the windows of consecutive days
    that hold no NaN remain, by brute force; pieces given apart work too."""
    ds = xt.datasets.tasmax(time=12, lat=3, lon=4)
    missing = ds.time.values[4]
    gappy = ds.drop_sel(time=missing)
    label = xt.Target("tasmax", lead={"time": 1})
    tab = xt.WindowTabularizer({"time": 3}, input_overlap={"time": 2}, target=label)
    with pytest.raises(ValueError, match=r"skips steps \(1 gap\(s\); the first after 1850-01-04"):
        tab.fit(gappy)
    filled = gappy.reindex(time=ds.time)
    X, y, coords = xt.WindowTabularizer(
        {"time": 3}, input_overlap={"time": 2}, target=label, dropna=True
    ).tabularize(filled)
    days = list(ds.time.values)
    kept_anchors = sorted(set(coords["time"].values))
    by_hand = [  # anchors whose three days and label day are all present
        days[a] for a in range(3, len(days)) if all(days[t] != missing for t in range(a - 3, a + 1))
    ]
    assert kept_anchors == by_hand and len(by_hand) < len(days) - 3
    before, after = gappy.isel(time=slice(0, 4)), gappy.isel(time=slice(4, None))
    rows = [tab.fit(before).tabularize(piece).X for piece in (before, after)]
    assert sum(map(len, rows)) == len(X)  # the same windows, none across the gap


def test_only_time_that_skips_steps_is_refused():
    """Irregular grids are not gappy: pressure levels (25 and 50 hPa apart) and depths
    window as they are; a noleap calendar's days written as datetime64 (28 February,
    then 1 March) skip nothing; a one-day window joins no days. A daily gap is refused."""
    ds = xt.datasets.tasmax(time=16, lat=3, lon=4)
    levels = [500, 550, 600, 650, 700, 750, 775, 800, 825, 850, 875, 900, 925, 950, 975, 1000]
    as_levels = ds.rename(time="level").assign_coords(level=levels)
    xt.WindowTabularizer({"level": 3, "lat": 2}).fit(as_levels)
    noleap = pd.date_range("2000-02-20", periods=17, freq="D").delete(9)  # no 29 Feb
    xt.WindowTabularizer({"time": 3}, target=xt.Target("tasmax", lead={"time": 1})).fit(
        ds.assign_coords(time=noleap)
    )
    gappy = pd.date_range("2001-02-20", periods=17, freq="D").delete(9)  # 1 March missing
    xt.WindowTabularizer({"lat": 2}).fit(ds.assign_coords(time=gappy))  # no time window
    with pytest.raises(ValueError, match="skips steps"):
        xt.WindowTabularizer({"time": 3}).fit(ds.assign_coords(time=gappy))


@pytest.mark.parametrize("calendar", ["standard", "noleap", "360_day"])
@pytest.mark.parametrize("freq", ["MS", "mid-month", "QS", "YS"])
def test_a_missing_month_or_year_is_refused(freq, calendar):
    """Monthly, quarterly and yearly labels with a step missing: a window must not join
    April and May as the July sample's "time-2" and "time-1" (it did, silently, for
    monthly data in the standard and noleap calendars and yearly data in the standard
    one). Without the gap, and with stamps at the middle of each month, nothing is
    refused."""
    stamps = xr.date_range(
        "2000-01-01",
        periods=12,
        freq="MS" if freq == "mid-month" else freq,
        calendar=calendar,
        use_cftime=calendar != "standard",
    )
    if freq == "mid-month":  # CF's monthly means: the middle of each month's bounds
        ends = xr.date_range(
            "2000-02-01",
            periods=12,
            freq="MS",
            calendar=calendar,
            use_cftime=calendar != "standard",
        )
        stamps = [a + (b - a) / 2 for a, b in zip(stamps, ends, strict=True)]
    ds = xt.datasets.tasmax(time=12, lat=2, lon=3).assign_coords(time=stamps)
    label = xt.Target("tasmax", lead={"time": 1})
    tab = xt.WindowTabularizer({"time": 2}, input_overlap={"time": 1}, target=label)
    X = tab.fit(ds).transform(ds)
    assert len(X) == 10 * 6
    with pytest.raises(ValueError, match="skips steps"):
        tab.fit(ds.drop_isel(time=5))


def test_two_seasons_a_year_are_not_gaps():
    """Labels at 1 June and 1 October every year (a wet and a dry season) step 4 and 8
    months in turn: no step is missing (refused as 5 gaps for a while)."""
    stamps = [f"{y}-{m:02d}-01" for y in range(2000, 2006) for m in (6, 10)]
    ds = xt.datasets.tasmax(time=12, lat=2, lon=3).assign_coords(time=pd.to_datetime(stamps).values)
    tab = xt.WindowTabularizer({"time": 2}, target=xt.Target("tasmax", lead={"time": 1}))
    assert len(tab.fit(ds).transform(ds)) == 5 * 6
