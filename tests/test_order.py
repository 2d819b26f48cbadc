"""A table cut from any copy of the same data is the same table: listing order of
variables and dims (memory, netCDF, zarr) changes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import xbatcher_tab as xt
from xbatcher_tab.cli import main


def several_variables():
    ds = xt.datasets.tasmax(time=8, lat=5, lon=6, static=True)
    pr = (ds.tasmax * 0.01).transpose("lat", "lon", "time").rename("pr")  # another dim order
    return ds.assign(pr=pr)


def copies(ds, tmp_path):
    """The data in memory (in two listing orders), from netCDF and from zarr."""
    reordered = ds[["orog", "pr", "tasmax"]]
    nc = tmp_path / "copy.nc"
    reordered.to_netcdf(nc, engine="netcdf4")
    store = tmp_path / "copy.zarr"
    ds[["pr", "orog", "tasmax"]].to_zarr(store, consolidated=False)
    return {
        "memory": ds,
        "memory, reordered": reordered,
        "netcdf": xr.open_dataset(nc, engine="netcdf4"),
        "zarr": xr.open_zarr(store, consolidated=False),
    }, {"netcdf": nc, "zarr": store}


def test_listing_orders_differ_but_tables_agree(tmp_path):
    ds = several_variables()
    data, _ = copies(ds, tmp_path)
    listings = {k: (list(v.data_vars), list(v.sizes)) for k, v in data.items()}
    assert len({str(v) for v in listings.values()}) > 1  # the copies do list differently
    tables = {}
    for name, copy in data.items():
        tab = xt.WindowTabularizer(
            input_dims={"lat": 3, "time": 2},
            target=xt.Target("tasmax", lead={"time": 1}),
        )
        X, y, coords = tab.tabularize(copy)  # a fresh fit on each copy
        tables[name] = (list(tab.get_feature_names_out()), X, y, coords)
    names, X, y, coords = tables["memory"]
    # features: the variables sorted by name; samples: over the dims of the first of
    # the widest variables in that order, pr(lat, lon, time)
    assert [n.split("(")[0] for n in names] == ["orog"] * 3 + ["pr"] * 6 + ["tasmax"] * 6
    assert list(coords.columns) == ["lat", "lon", "time"]
    for name, (other_names, other_X, other_y, other_coords) in tables.items():
        assert other_names == names, name
        np.testing.assert_array_equal(other_X, X, err_msg=name)
        np.testing.assert_array_equal(other_y, y, err_msg=name)
        pd.testing.assert_frame_equal(other_coords, coords, check_dtype=False)


def test_exports_of_every_copy_are_identical(tmp_path):
    ds = several_variables()
    _, paths = copies(ds, tmp_path)
    tables = []
    for kind, path in paths.items():
        out = tmp_path / f"{kind}.parquet"
        code = main(
            [
                "export",
                str(path),
                "--input-dims",
                "lat=3,time=2",
                "--target",
                "tasmax:time+1",
                "--out",
                str(out),
                "--quiet",
                "--batch-size",
                "37",
            ]
        )
        assert code == 0
        tables.append(pd.read_parquet(out))
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert list(tables[0].columns)[:1] == ["orog(lat-1)"]


def test_pandas_output_is_indexed_by_sample_ids():
    ds = xt.datasets.tasmax(time=8, lat=5, lon=6, nan_fraction=0.2)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 2, "time": 2}, target="tasmax", dropna=True
    ).set_output(transform="pandas")
    with pytest.warns(UserWarning, match="also a feature"):
        tab.fit(ds)
    frame = tab.transform(ds)
    coords = tab.sample_coords(ds)
    assert isinstance(frame, pd.DataFrame)
    assert frame.index.equals(coords.index) and frame.index.name == "sample"
    assert not frame.index.equals(pd.RangeIndex(len(frame)))  # dropna left gaps
    X, y, c = tab.tabularize(ds)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X.index.equals(c.index) and y.index.equals(c.index) and y.name == "tasmax"
    pd.testing.assert_frame_equal(X, frame)
    batches = list(tab.iter_batches(ds, batch_size=50))
    assert all(isinstance(b.X, pd.DataFrame) and b.X.index.equals(b.coords.index) for b in batches)
    pd.testing.assert_frame_equal(pd.concat([b.X for b in batches]), frame)
    plain = tab.set_output(transform="default").tabularize(ds)
    np.testing.assert_array_equal(plain.X, frame.to_numpy())


def test_target_by_name_is_the_value_at_the_anchor():
    ds = xt.datasets.tasmax(time=6, lat=5, lon=6, static=True)
    by_name = xt.WindowTabularizer(input_dims={"lat": 3}, variables=["tasmax"], target="orog")
    spelled = xt.WindowTabularizer(
        input_dims={"lat": 3}, variables=["tasmax"], target=xt.Target("orog")
    )
    a, b = by_name.tabularize(ds), spelled.tabularize(ds)
    np.testing.assert_array_equal(a.y, b.y)
    assert by_name.layout_ == spelled.layout_


def test_lightgbm_trains_on_the_pandas_table():
    import lightgbm

    ds = xt.datasets.tasmax(time=10, lat=8, lon=9)
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "lon": 3, "time": 2},
        input_overlap={"lat": 2, "lon": 2, "time": 1},
        target=xt.Target("tasmax", lead={"time": 1}),
    ).set_output(transform="pandas")
    X, y, coords = tab.tabularize(ds)
    model = lightgbm.LGBMRegressor(n_estimators=20, verbose=-1).fit(X, y)
    assert model.feature_name_ == list(tab.get_feature_names_out())
    pred = xt.predict(model, tab, ds)  # named columns at prediction time too
    assert int(pred.notnull().sum()) == len(X) + 6 * 7  # plus the forecast day
