"""Hypothesis strategies for small random xarray data and window arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from hypothesis import strategies as st

DIM_NAMES = ["time", "lat", "lon", "z"]


@st.composite
def datasets(draw, min_dims=1, max_dims=4, max_size=6, extras=True):
    """A Dataset with 1-4 dims, a main variable over all dims (in random order), and
    optionally a second variable over a subset of dims, index and auxiliary coords."""
    ndim = draw(st.integers(min_dims, max_dims))
    dims = draw(st.permutations(DIM_NAMES))[:ndim]
    sizes = {d: draw(st.integers(1, max_size)) for d in dims}
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    main_dims = tuple(draw(st.permutations(dims)))
    data_vars = {
        "a": (
            main_dims,
            rng.standard_normal([sizes[d] for d in main_dims]).astype("float32"),
            {"units": "K"},
        ),
    }
    coords = {}
    if extras:
        if draw(st.booleans()):
            sub = tuple(d for d in dims if draw(st.booleans()))
            data_vars["b"] = (sub, rng.integers(0, 100, [sizes[d] for d in sub]).astype("int64"))
        for d in dims:
            kind = draw(st.sampled_from(["none", "float", "time"]))
            if kind == "float":
                coords[d] = (d, np.sort(rng.uniform(-90, 90, sizes[d])), {"units": "deg"})
            elif kind == "time":
                coords[d] = (d, pd.date_range("2000-01-01", periods=sizes[d]).to_numpy())
        if draw(st.booleans()):
            sub = tuple(d for d in dims if draw(st.booleans()))
            coords["aux"] = (sub, rng.standard_normal([sizes[d] for d in sub]))
    ds = xr.Dataset(data_vars, coords=coords, attrs={"title": "random"})
    if draw(st.booleans()):
        ds.attrs = {}
    return ds


@st.composite
def window_args(draw, sizes, allow_batch=True, max_input=None):
    """input_dims, input_overlap, batch_dims for data of the given dim sizes."""
    dims = list(sizes)
    n_in = draw(st.integers(1, len(dims) if max_input is None else min(max_input, len(dims))))
    inputs = draw(st.permutations(dims))[:n_in]
    input_dims = {d: draw(st.integers(1, sizes[d])) for d in inputs}
    input_overlap = {}
    for d, n in input_dims.items():
        if n > 1 and draw(st.booleans()):
            input_overlap[d] = draw(st.integers(0, n - 1))
    batch_dims = {}
    if allow_batch:
        for d in dims:
            if draw(st.booleans()):
                batch_dims[d] = draw(st.integers(1, sizes[d]))
    return input_dims, input_overlap, batch_dims


def maybe_chunk(draw, ds):
    """Dask-back the data with random chunks half of the time."""
    if not draw(st.booleans()):
        return ds
    chunks = {d: draw(st.integers(1, max(1, n))) for d, n in ds.sizes.items()}
    return ds.chunk(chunks)


@st.composite
def tab_case(draw):
    """Random data (1-4 dims, several variables, a static one, NaN) and arguments."""
    ndim = draw(st.integers(1, 4))
    dims = draw(st.permutations(DIM_NAMES))[:ndim]
    sizes = {d: draw(st.integers(1, 6)) for d in dims}
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    data_vars = {}
    for name in ["a", "b"][: draw(st.integers(1, 2))]:
        vdims = tuple(draw(st.permutations(dims)))
        values = rng.standard_normal([sizes[d] for d in vdims])
        if draw(st.booleans()):
            values[rng.random(values.shape) < 0.1] = np.nan
        data_vars[name] = (vdims, values)
    if draw(st.booleans()):  # a static field over a subset of dims
        sub = tuple(d for d in dims if draw(st.booleans()))
        data_vars["static"] = (sub, rng.standard_normal([sizes[d] for d in sub]))
    coords = {}
    for d in dims:
        if draw(st.booleans()):
            coords[d] = (d, np.sort(rng.uniform(0, 100, sizes[d])))
    ds = xr.Dataset(data_vars, coords=coords)
    if draw(st.booleans()):
        ds = ds.chunk({d: draw(st.integers(1, 6)) for d in dims})

    n_in = draw(st.integers(1, ndim))
    inputs = draw(st.permutations(dims))[:n_in]
    input_dims = {d: draw(st.integers(1, sizes[d])) for d in inputs}
    overlap = {d: draw(st.integers(0, n - 1)) for d, n in input_dims.items() if n > 1}
    lead = {}
    if draw(st.booleans()):
        d = draw(st.sampled_from(dims))
        room = sizes[d] - input_dims.get(d, 1)
        if room >= 1:
            lead[d] = draw(st.integers(1, room))
    names = list(ds.data_vars)
    variables = draw(st.one_of(st.none(), st.permutations(names).map(lambda p: p[:2])))
    target = draw(st.sampled_from(names)) if (lead or draw(st.booleans())) else None
    return ds, dict(
        input_dims=input_dims,
        input_overlap=overlap,
        variables=variables,
        target=target,
        lead=lead,
        dropna=draw(st.booleans()),
    )
