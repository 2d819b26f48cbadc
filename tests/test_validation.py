"""Bad arguments give errors that name the argument, the bad value and what is valid."""

from __future__ import annotations

import numpy as np
import pytest

import xbatcher_tab as xt


@pytest.fixture(scope="module")
def ds():
    return xt.datasets.tasmax(time=10, lat=4, lon=5)


@pytest.mark.parametrize(
    ("kwargs", "exc", "pattern"),
    [
        (
            {"input_dims": {"depth": 2}},
            ValueError,
            r"input_dims names dimension 'depth'.*valid dims are \['time', 'lat', 'lon'\]",
        ),
        (
            {"input_dims": {"time": 11}},
            ValueError,
            r"input_dims\['time'\]=11 is larger than the data's 'time' dimension \(length 10\); "
            r"expected a size between 1 and 10",
        ),
        (
            {"input_dims": {"time": 0}},
            ValueError,
            r"input_dims\['time'\] must be at least 1, got 0",
        ),
        (
            {"input_dims": {"time": -3}},
            ValueError,
            r"input_dims\['time'\] must be at least 1, got -3",
        ),
        (
            {"input_dims": {"time": 2.5}},
            TypeError,
            r"input_dims\['time'\] must be an integer, got 2.5 \(float\)",
        ),
        (
            {"input_dims": {"time": "3"}},
            TypeError,
            r"input_dims\['time'\] must be an integer, got '3'",
        ),
        ({"input_dims": {"time": True}}, TypeError, r"input_dims\['time'\] must be an integer"),
        ({"input_dims": {}}, ValueError, r"input_dims must name at least one dimension"),
        ({"input_dims": ["time"]}, TypeError, r"input_dims must be a mapping.*got \['time'\]"),
        (
            {"input_dims": {"time": 3}, "input_overlap": {"time": 3}},
            ValueError,
            r"input_overlap\['time'\]=3 must be smaller than input_dims\['time'\]=3; "
            r"expected an overlap between 0 and 2",
        ),
        (
            {"input_dims": {"time": 3}, "input_overlap": {"time": 7}},
            ValueError,
            r"input_overlap\['time'\]=7 must be smaller",
        ),
        (
            {"input_dims": {"time": 3}, "input_overlap": {"time": -1}},
            ValueError,
            r"input_overlap\['time'\] must not be negative, got -1",
        ),
        (
            {"input_dims": {"time": 3}, "input_overlap": {"time": 1.0}},
            TypeError,
            r"input_overlap\['time'\] must be an integer, got 1.0 \(float\)",
        ),
        (
            {"input_dims": {"time": 3}, "input_overlap": {"lat": 1}},
            ValueError,
            r"input_overlap names dimension 'lat', which is not in input_dims \['time'\]",
        ),
        (
            {"input_dims": {"time": 3}, "batch_dims": {"lat": 9}},
            ValueError,
            r"batch_dims\['lat'\]=9 is larger than the data's 'lat' dimension \(length 4\)",
        ),
        (
            {"input_dims": {"time": 3}, "batch_dims": {"level": 1}},
            ValueError,
            r"batch_dims names dimension 'level'",
        ),
        (
            {"input_dims": {"time": 3}, "batch_dims": {"time": 0}},
            ValueError,
            r"batch_dims\['time'\] must be at least 1, got 0",
        ),
    ],
)
def test_bad_arguments(ds, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        xt.BatchGenerator(ds, **kwargs)


def test_numpy_integers_are_accepted(ds):
    bgen = xt.BatchGenerator(
        ds, input_dims={"time": np.int64(5)}, input_overlap={"time": np.int32(1)}
    )
    assert len(bgen) == 2


def test_data_must_be_xarray():
    with pytest.raises(
        TypeError, match="ds must be an xarray.Dataset or xarray.DataArray, got ndarray"
    ):
        xt.BatchGenerator(np.zeros((3, 3)), input_dims={"x": 1})


def test_indexing(ds):
    bgen = xt.BatchGenerator(ds, input_dims={"time": 3})
    assert len(bgen) == 3
    last = bgen[2]
    for key in (-1, np.int64(2), np.int32(-1)):
        assert bgen[key].identical(last)
    assert bgen[-3].identical(bgen[0])
    with pytest.raises(IndexError, match="batch index 3 is out of range for 3 batches"):
        bgen[3]
    with pytest.raises(IndexError, match="batch index -4 is out of range for 3 batches"):
        bgen[-4]
    with pytest.raises(TypeError, match="batch index must be an integer, got 1.0"):
        bgen[1.0]
    with pytest.raises(TypeError, match="batch index must be an integer"):
        bgen[True]


def test_duplicate_batch_dims_warn_without_concat(ds):
    with pytest.warns(UserWarning, match="both input_dims and batch_dims"):
        bgen = xt.BatchGenerator(ds, input_dims={"time": 3}, batch_dims={"time": 6})
    assert len(bgen) == 3


def test_repr_names_the_arguments(ds):
    text = repr(xt.BatchGenerator(ds, input_dims={"time": 3}, input_overlap={"time": 1}))
    assert "input_dims={'time': 3}" in text and "n_batches=4" in text
