"""WindowTabularizer: scikit-learn conventions and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as checks

import xbatcher_tab as xt

DATA_FREE_CHECKS = [
    "check_estimator_cloneable",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_repr",
    "check_parameters_default_constructible",
    "check_mixin_order",
    "check_do_not_raise_errors_in_init_or_set_params",
]


@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
def test_sklearn_data_free_checks(check):
    tab = xt.WindowTabularizer(input_dims={"time": 3}, target=xt.Target("tasmax", lead={"time": 1}))
    getattr(checks, check)("WindowTabularizer", tab)


def test_tags_say_input_is_not_a_2d_array():
    tags = xt.WindowTabularizer(input_dims={"time": 2}).__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.target_tags.required is False


@pytest.fixture(scope="module")
def ds():
    return xt.datasets.tasmax(time=10, lat=4, lon=5, static=True)


@pytest.mark.parametrize(
    ("kwargs", "exc", "pattern"),
    [
        ({"input_dims": {"depth": 2}}, ValueError, r"input_dims names dimension 'depth'"),
        ({"input_dims": {"time": 11}}, ValueError, r"input_dims\['time'\]=11 is larger"),
        ({"input_dims": {"time": 2.0}}, TypeError, r"must be an integer, got 2.0"),
        (
            {"input_dims": {"time": 3}, "input_overlap": {"time": 3}},
            ValueError,
            r"input_overlap\['time'\]=3 must be smaller",
        ),
        (
            {"input_dims": {"time": 3}, "input_overlap": {"lat": 1}},
            ValueError,
            r"input_overlap names dimension 'lat', which is not in input_dims",
        ),
        (
            {"input_dims": {"time": 3}, "variables": ["pr"]},
            ValueError,
            r"variables names \['pr'\].*valid variables are \['tasmax', 'orog'\]",
        ),
        (
            {"input_dims": {"time": 3}, "variables": "tasmax"},
            TypeError,
            r"variables must be a list of variable names",
        ),
        (
            {"input_dims": {"time": 3}, "target": xt.Target("pr")},
            ValueError,
            r"target variable 'pr' is not a data variable",
        ),
        (
            {"input_dims": {"time": 3}, "target": 3},
            TypeError,
            r"target must be an xbatcher_tab.Target, a variable name or None, got int",
        ),
        (
            {"input_dims": {"time": 3}, "target": xt.Target("tasmax", lead={"time": 0})},
            ValueError,
            r"Target lead\['time'\] must be at least 1",
        ),
        (
            {"input_dims": {"time": 3}, "target": xt.Target("tasmax", lead={"time": -2})},
            ValueError,
            r"Target lead\['time'\] must be at least 1.*got -2",
        ),
        (
            {"input_dims": {"time": 3}, "target": xt.Target("tasmax", lead={"level": 1})},
            ValueError,
            r"Target lead names dimension 'level'",
        ),
        (
            {"input_dims": {"time": 9}, "target": xt.Target("tasmax", lead={"time": 2})},
            ValueError,
            r"input_dims\['time'\]=9 plus the target's lead of 2 is larger",
        ),
        (
            {"input_dims": {"time": 3}, "dtype": "datetime64[ns]"},
            ValueError,
            r"dtype must be a numeric dtype",
        ),
        (
            {"input_dims": {"time": 3}, "dropna": "yes"},
            ValueError,
            r"dropna must be True, False or 'target', got 'yes'",
        ),
        ({"input_dims": {"time": 3}, "dropna": 1}, TypeError, r"dropna must be True, False"),
        ({"input_dims": {"time": 3}, "center": "median"}, ValueError, r"center must be None"),
        ({"input_dims": {"time": 3}, "stats": ["median"]}, ValueError, r"valid summaries"),
        (
            {"input_dims": {"time": 3}, "coord_features": ["lat.hour"]},
            ValueError,
            r"coord_features names 'lat.hour'",
        ),
        (
            {"input_dims": {"time": 3}, "coord_features": {"lat": "cyclic"}},
            ValueError,
            r"cannot be cyclic",
        ),
        ({"input_dims": {"time": 3}, "scale": "yes"}, TypeError, r"scale must be True or False"),
        ({"input_dims": {"time": 3}, "where": "land"}, TypeError, r"where must be a boolean"),
    ],
)
def test_bad_parameters_fail_at_fit(ds, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        xt.WindowTabularizer(**kwargs).fit(ds)


def test_not_a_grid(ds):
    with pytest.raises(TypeError, match="X must be an xarray.Dataset or xarray.DataArray"):
        xt.WindowTabularizer(input_dims={"time": 3}).fit(np.zeros((4, 4)))


def test_unfitted():
    with pytest.raises(NotFittedError):
        xt.WindowTabularizer(input_dims={"time": 3}).transform(xt.datasets.tasmax(time=4))


def test_mismatched_layout_between_fit_and_transform(ds):
    tab = xt.WindowTabularizer(
        input_dims={"lat": 3, "time": 3}, target=xt.Target("tasmax", lead={"time": 1})
    ).fit(ds)
    with pytest.raises(ValueError, match=r"lacks variables \['orog'\]"):
        tab.transform(ds[["tasmax"]])
    with pytest.raises(ValueError, match=r"has dims \['lat', 'lon'\] but the tabularizer"):
        tab.transform(ds.isel(time=0))
    with pytest.raises(ValueError, match=r"variable 'orog' has dims \('level', 'lat', 'lon'\)"):
        tab.transform(ds.expand_dims(level=2))
    swapped = ds.assign(orog=ds.orog.expand_dims(time=ds.time))
    with pytest.raises(ValueError, match=r"variable 'orog' has dims .* but had \('lat', 'lon'\)"):
        tab.transform(swapped)
    with pytest.raises(
        ValueError,
        match=r"'time' dimension \(length 3\) is shorter than the "
        r"window of 3 plus the lead of 1",
    ):
        tab.transform(ds.isel(time=slice(0, 3)))
    # other sizes are fine, and dims may come in another order
    other = ds.isel(time=slice(0, 6)).transpose("lon", "lat", "time")
    assert tab.transform(other).shape[0] == len(tab.sample_coords(other))


def test_label_among_features_warns(ds):
    with pytest.warns(UserWarning, match="each label is one of its own sample's features"):
        xt.WindowTabularizer(input_dims={"time": 3}, target=xt.Target("tasmax")).fit(ds)


def test_dataarray_input():
    da = xt.datasets.tasmax(time=6, lat=3, lon=4)["tasmax"]
    tab = xt.WindowTabularizer(input_dims={"time": 2}, target=xt.Target("tasmax", lead={"time": 1}))
    X, y, coords = tab.tabularize(da)
    # windows start at days 0 and 2 (day 4's label, day 6, is past the end)
    assert X.shape == (2 * 3 * 4, 2)
    np.testing.assert_array_equal(y, da.isel(time=[2, 4]).values.ravel())
    np.testing.assert_array_equal(X[:, 1], da.isel(time=[1, 3]).values.ravel())
    unnamed = xr.DataArray(np.arange(10.0), dims="t")
    tab2 = xt.WindowTabularizer(input_dims={"t": 2})
    assert list(tab2.fit(unnamed).get_feature_names_out()) == ["values(t-1)", "values(t+0)"]
