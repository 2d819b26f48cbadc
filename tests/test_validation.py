"""Bad arguments give errors that name the argument, the bad value and what is valid."""

from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr
from sklearn.preprocessing import StandardScaler

import xbatcher_tab as xt
from xbatcher_tab.model_selection import WindowBlockSplit


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
    with pytest.raises(IndexError, match="list index out of range: batch index 3 of 3 batches"):
        bgen[3]
    with pytest.raises(IndexError, match="out of range: batch index -4 of 3 batches"):
        bgen[-4]
    with pytest.raises(NotImplementedError, match="one batch index .* got list"):
        bgen[[0, 1]]  # xbatcher's error for several indices
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


# -- the argument checker's matrix: every integer option x every kind of bad value ----------


def _tab(ds, **kwargs):
    args = {"input_dims": {"time": 2}, "target": xt.Target("tasmax", lead={"time": 1})}
    return xt.WindowTabularizer(**{**args, **kwargs}).fit(ds)


def _iter(ds, name, value):
    return list(_tab(ds).iter_batches(ds, **{name: value}))


INTEGER_OPTIONS = {
    # name in messages: (call with a value, a valid value)
    "batch_size": (lambda ds, v: _iter(ds, "batch_size", v), 3),
    "start": (lambda ds, v: _iter(ds, "start", v), 1),
    "shuffle_buffer": (lambda ds, v: _iter(ds, "shuffle_buffer", v), 2),
    "epochs": (
        lambda ds, v: xt.fit_batches(StandardScaler(), _tab(ds), ds, epochs=v, batch_size=64),
        1,
    ),
    "n_splits": (lambda ds, v: WindowBlockSplit(_tab(ds), n_splits=v), 2),
    "input_dims['time']": (lambda ds, v: xt.WindowTabularizer(input_dims={"time": v}).fit(ds), 2),
    "input_overlap['time']": (
        lambda ds, v: xt.WindowTabularizer(input_dims={"time": 3}, input_overlap={"time": v}).fit(
            ds
        ),
        1,
    ),
    "batch_dims['time']": (
        lambda ds, v: xt.BatchGenerator(ds, input_dims={"lat": 2}, batch_dims={"time": v}),
        2,
    ),
    "Target lead['time']": (
        lambda ds, v: xt.WindowTabularizer(
            input_dims={"time": 2}, target=xt.Target("tasmax", lead={"time": v})
        ).fit(ds),
        1,
    ),
    "batch index": (lambda ds, v: xt.BatchGenerator(ds, input_dims={"time": 2})[v], 1),
    "time": (lambda ds, v: xt.datasets.tasmax(time=v, lat=2, lon=2), 3),
}
BAD_VALUES = {
    "float": (2.5, TypeError, r"got 2\.5 \(float\)"),
    "bool": (True, TypeError, r"got True \(bool\)"),
    "str": ("3", TypeError, r"got '3' \(str\)"),
    "negative": (-7, ValueError, r"-7"),
}


@pytest.mark.parametrize("kind", list(BAD_VALUES))
@pytest.mark.parametrize("name", list(INTEGER_OPTIONS))
def test_integer_options_reject_bad_values(ds, name, kind):
    call, _ = INTEGER_OPTIONS[name]
    value, exc, pattern = BAD_VALUES[kind]
    if name == "batch index" and kind == "negative":
        exc = IndexError  # negative indices count from the end, as in Python
    with pytest.raises(exc, match=re.escape(name) + r".*" + pattern):
        call(ds, value)


@pytest.mark.parametrize("name", list(INTEGER_OPTIONS))
def test_integer_options_accept_numpy_integers(ds, name):
    """A numpy integer gives what the same Python integer gives."""
    call, valid = INTEGER_OPTIONS[name]
    expected = summary(call(ds, valid))
    for cast in (np.int64, np.int32, np.uint8):
        assert summary(call(ds, cast(valid))) == expected


def summary(result: object) -> object:
    """What an option's call gave, comparable across calls: batches' sizes and ids, a
    fitted object's parameters and layout, a Dataset's sizes."""
    if isinstance(result, list):  # batches
        return [(len(b.X), tuple(b.coords.index)) for b in result]
    if isinstance(result, xr.Dataset):
        return dict(result.sizes)
    if hasattr(result, "layout_"):
        return result.get_layout()
    if hasattr(result, "n_splits"):
        return result.n_splits
    if hasattr(result, "coef_"):
        return tuple(np.ravel(result.coef_).round(6))
    if hasattr(result, "mean_"):
        return tuple(np.ravel(result.mean_).round(6))
    return len(result)


@pytest.mark.parametrize(
    ("kwargs", "exc", "pattern"),
    [
        ({"drop_last": 1}, TypeError, r"drop_last must be True or False, got 1 \(int\)"),
        ({"shuffle": "yes"}, ValueError, r"shuffle must be True, False or 'full', got 'yes'"),
        ({"random_state": -1}, ValueError, r"random_state must be None, an integer >= 0"),
        ({"random_state": 0.5}, TypeError, r"random_state must be None, an integer >= 0"),
        ({"bach_size": 3}, TypeError, r"unknown option 'bach_size'; the batch options are"),
    ],
)
def test_other_batch_options(ds, kwargs, exc, pattern):
    tab = _tab(ds)
    with pytest.raises(exc, match=pattern):
        tab.iter_batches(ds, **kwargs)
    with pytest.raises(exc, match=pattern):
        xt.WindowDataIter(tab, ds, **kwargs)
    if "bach_size" in kwargs:  # partial_fit passes other keywords to the estimator
        pattern = "unexpected keyword argument 'bach_size'"
    with pytest.raises(exc, match=pattern):
        xt.fit_batches(StandardScaler(), tab, ds, **kwargs)


def test_batch_options_are_the_same_everywhere(ds):
    """iter_batches, partial_fit and WindowDataIter take the same options."""
    tab = _tab(ds)
    options = {
        "batch_size": np.int64(7),
        "shuffle": np.bool_(True),
        "random_state": 3,
        "drop_last": True,
        "start": 1,
        "shuffle_buffer": np.int64(2),
    }
    batches = list(tab.iter_batches(ds, **options))
    assert [len(b.y) for b in batches] == [7] * (tab.count_samples(ds) // 7 - 1)
    seen = []
    it = xt.WindowDataIter(tab, ds, **options)
    while it.next(lambda **kw: seen.append(kw["label"])):
        pass
    for a, b in zip(seen, batches, strict=True):
        np.testing.assert_array_equal(a, b.y)
    scaler = xt.fit_batches(StandardScaler(), tab, ds, **options)
    assert scaler.n_samples_seen_ == sum(len(b.y) for b in batches)
