"""Build xarray batches from labelled arrays without per-window xarray work.

A batch is first described as a list of :class:`Entry` objects, one per variable of
what xbatcher would have produced before stacking (its ``concat`` result). Each entry
names the batch dims of the variable and carries the source array plus, for windowed
variables, how to view its windows. :func:`assemble` then lays every variable out in
its final shape with one copy, stacks the non-input dims into a ``sample`` MultiIndex
when xbatcher would, and returns the Dataset.

Inside an entry, windowed batches use *virtual* dims: ``input_batch`` is the product of
one window-position dim per input dim (C order), so it never has to be materialised
before the final copy.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import PandasMultiIndex

from .._core.data import is_dask
from .._engine.kernels import window_view
from .plan import arrange

__all__ = ["Entry", "assemble"]

SAMPLE = "sample"
_CACHE_SIZE = 4


@dataclass
class Entry:
    """One variable of a batch before stacking.

    Attributes
    ----------
    name : variable name.
    dims : its dims in the unstacked batch (``input_batch`` counts as one dim).
    vdims : labels of ``window_view(data, *win)`` (or of ``data`` when ``win`` is None);
        every label is either a dim of ``dims`` or one of the labels ``groups`` merges.
    data : numpy or dask array.
    win : ``(axes, sizes, strides)`` for :func:`window_view`, or None.
    is_coord : whether the variable is a coordinate.
    index : the xarray index of an index coordinate kept as it is, else None.
    variable : the original variable, reused untouched when no copy is needed.
    """

    name: Hashable
    dims: tuple[Hashable, ...]
    vdims: tuple[Hashable, ...]
    data: Any
    attrs: dict = field(default_factory=dict)
    win: tuple | None = None
    is_coord: bool = False
    index: xr.indexes.Index | None = None
    variable: xr.Variable | None = None


def _gather_numpy(data, win, vdims, target, vsizes) -> np.ndarray:
    arr = window_view(np.asarray(data), *win) if win else np.asarray(data)
    return arrange(arr, vdims, target, vsizes)


def _materialize(entry: Entry, target, vsizes: Mapping[Hashable, int]):
    """The entry's values laid out as ``target`` (numpy, or lazy dask for dask data)."""
    if not is_dask(entry.data):
        return _gather_numpy(entry.data, entry.win, entry.vdims, target, vsizes)
    import dask
    import dask.array as dsa

    shape = tuple(int(np.prod([vsizes[d] for d in group], dtype=np.int64)) for group in target)
    task = dask.delayed(_gather_numpy, pure=True)(
        entry.data, entry.win, entry.vdims, target, vsizes
    )
    return dsa.from_delayed(task, shape=shape, dtype=entry.data.dtype)


def _sample_coords(
    stacked: Sequence[Hashable],
    entries: Sequence[Entry],
    sizes: Mapping[Hashable, int],
) -> xr.Coordinates:
    """The ``sample`` MultiIndex coordinates, as ``Dataset.stack`` builds them.

    Levels are the stacked dims' index coordinates, or ``0..n-1`` for dims without
    one; xarray's own ``PandasMultiIndex.stack`` builds the index from them.
    """
    levels = {
        e.name: e.variable
        for e in entries
        if e.index is not None and e.dims == (e.name,) and e.name in stacked
    }
    level_vars = {
        d: levels[d] if d in levels else xr.Variable((d,), np.arange(sizes[d], dtype=np.int64))
        for d in stacked
    }
    index = _product_index(level_vars)
    variables = index.create_variables(level_vars)
    return xr.Coordinates(variables, indexes=dict.fromkeys(variables, index))


def _product_index(level_vars: Mapping[Hashable, xr.Variable]) -> PandasMultiIndex:
    """``PandasMultiIndex.stack(level_vars, SAMPLE)``, built directly from codes when
    every level is numeric or datetime, unique and increasing (the index pandas'
    ``from_product`` would build, without factorizing the levels again)."""
    values = [np.asarray(v.values) for v in level_vars.values()]
    if any(v.dtype.kind not in "biufmM" for v in values):  # pandas may infer another dtype
        return PandasMultiIndex.stack(level_vars, SAMPLE)
    levels = [pd.Index(v) for v in values]
    if not all(lev.is_unique and lev.is_monotonic_increasing for lev in levels):
        return PandasMultiIndex.stack(level_vars, SAMPLE)
    shape = [len(lev) for lev in levels]
    codes = [
        np.broadcast_to(
            np.arange(n, dtype=_code_dtype(n)).reshape(
                [-1 if j == i else 1 for j in range(len(shape))]
            ),
            shape,
        ).ravel()
        for i, n in enumerate(shape)
    ]
    index = pd.MultiIndex(
        levels=levels, codes=codes, sortorder=0, names=list(level_vars), verify_integrity=False
    )
    dtypes = {k: v.dtype for k, v in level_vars.items()}
    return PandasMultiIndex(index, SAMPLE, level_coords_dtype=dtypes)


def _code_dtype(n: int) -> np.dtype:
    """The integer type pandas keeps the codes of a level of ``n`` values in (the
    smallest signed one below whose maximum ``n`` stays), so they are not cast again."""
    for dtype in (np.int8, np.int16, np.int32):
        if n < np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def assemble(
    entries: Sequence[Entry],
    dims_order: Sequence[Hashable],
    window_dims: Sequence[Hashable],
    groups: Mapping[Hashable, tuple[Hashable, ...]],
    vsizes: Mapping[Hashable, int],
    attrs: Mapping,
    cache: dict | None = None,
    bounds: Mapping[Hashable, tuple] | None = None,
) -> xr.Dataset:
    """Lay out every entry and stack non-window dims into ``sample`` as xbatcher does.

    ``dims_order`` is the order of dims of the unstacked batch (xbatcher stacks the
    non-window dims in that order, and only when there are two or more of them);
    ``groups`` maps each batch dim to the virtual labels it merges; ``vsizes`` gives
    the length of every label. The ``sample`` coordinates depend only on the stacked
    dims' coordinates: with a ``cache`` dict they are reused between batches whose
    stacked dims have the same lengths and the same source ``bounds`` (start, stop).
    """
    sizes = {d: int(np.prod([vsizes[v] for v in groups[d]], dtype=np.int64)) for d in dims_order}
    stacked = [d for d in dims_order if d not in window_dims]
    do_stack = len(stacked) >= 2
    sample_group = tuple(v for d in stacked for v in groups[d])

    data_vars: dict[Hashable, xr.Variable] = {}
    coords: dict[Hashable, xr.Variable] = {}
    indexes: dict[Hashable, xr.indexes.Index] = {}
    for e in entries:
        if do_stack and e.index is not None and e.dims == (e.name,) and e.name in stacked:
            continue  # replaced by the MultiIndex levels
        if do_stack and any(d in stacked for d in e.dims):
            out_dims = (SAMPLE, *(d for d in window_dims if d in e.dims))
            target = [sample_group] + [groups[d] for d in out_dims[1:]]
        elif do_stack:
            out_dims = tuple(d for d in window_dims if d in e.dims)
            target = [groups[d] for d in out_dims]
        else:
            out_dims = e.dims
            target = [groups[d] for d in out_dims]
        identity = (
            e.win is None
            and tuple(v for g in target for v in g) == e.vdims
            and all(len(g) == 1 for g in target)
        )
        if identity and e.variable is not None and e.variable.dims == out_dims:
            var = e.variable
            if e.index is not None:
                indexes[e.name] = e.index
        else:
            var = xr.Variable(out_dims, _materialize(e, target, vsizes), dict(e.attrs))
        (coords if e.is_coord else data_vars)[e.name] = var

    if do_stack:
        bounds = bounds or {}
        cache_key = tuple((d, sizes[d], bounds.get(d)) for d in stacked)
        sample = cache.get(cache_key) if cache is not None else None
        if sample is None:
            sample = _sample_coords(stacked, entries, sizes)
            if cache is not None:
                if len(cache) >= _CACHE_SIZE:
                    cache.pop(next(iter(cache)))
                cache[cache_key] = sample
        coords = {**sample.variables, **coords}
        indexes.update(sample.xindexes)
    return xr.Dataset(data_vars, coords=xr.Coordinates(coords, indexes=indexes), attrs=dict(attrs))
