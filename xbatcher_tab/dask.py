"""The window table as lazy dask arrays, block by block from the source's own chunks.

Each block of rows is one *slab* (a source chunk along the outermost dim plus the
window's halo, as in :mod:`xbatcher_tab.batching`), cut by the same numpy kernel as the
eager path, so ``to_dask(ds)`` and ``tabularize(ds)`` agree by construction. Building
the graph computes nothing; each task holds one slab and its rows, never the table.
Tasks are module-level functions of plain values, so they pickle to remote workers.
"""

from __future__ import annotations

import math

import dask
import dask.array as dsa
import numpy as np
import pandas as pd
import xarray as xr

from ._assemble import is_dask
from ._table import (
    Layout,
    Table,
    anchor_frame,
    as_dataset,
    coordinate_values,
    select_needed,
)
from .batching import _slabs

__all__ = ["to_dask"]

_TARGET_BLOCK_BYTES = 128 * 2**20  # blocks of numpy-backed data: about 128 MiB of X


def _slab_rows(
    layout: Layout, part: xr.Dataset, offsets: dict, p0: int, inner: int, dropna: bool
) -> tuple:
    """X, y and coords of one slab (runs on a worker; ``part`` arrives computed)."""
    table = Table(layout, part, offsets=offsets)
    X, y, coords = table.rows(table.valid_ids(dropna))
    coords.index = coords.index + p0 * inner
    return X, y, coords


def to_dask(tab, data: xr.Dataset | xr.DataArray):
    """See :meth:`WindowTabularizer.to_dask`."""
    layout: Layout = tab.layout_
    ds = as_dataset(data)
    ds = select_needed(layout, ds)
    grid = Table.grid_for(layout, {d: int(ds.sizes[d]) for d in layout.dims})
    d0 = grid.dims[0]
    inner = grid.n_samples // grid.counts[0] if grid.n_samples else 0
    if not any(is_dask(v.data) for v in ds.variables.values()):
        # numpy-backed: cut the outermost dim so blocks hold about 128 MiB of X
        rows = max(1, _TARGET_BLOCK_BYTES // max(1, tab.n_features_out_ * layout.dtype.itemsize))
        step = max(1, math.ceil(rows / max(inner, 1))) * grid.strides[0]
        ds = ds.chunk({d0: step})
    slabs = _slabs(tab, ds, grid.dims, grid.counts)

    x_blocks, y_blocks, frames = [], [], []
    y_dtype = ds[layout.target].dtype if layout.target is not None else None
    n_features = tab.n_features_out_
    for slab in slabs:
        part = ds.isel({d0: slab.cells})
        rows = np.nan if tab.dropna else (slab.p1 - slab.p0) * inner
        task = dask.delayed(_slab_rows, pure=True, nout=3)(
            layout, part, {d0: slab.cells.start}, slab.p0, inner, tab.dropna
        )
        x_blocks.append(dsa.from_delayed(task[0], (rows, n_features), dtype=layout.dtype))
        if y_dtype is not None:
            y_blocks.append(dsa.from_delayed(task[1], (rows,), dtype=y_dtype))
        frames.append(task[2])
    X = dsa.concatenate(x_blocks) if x_blocks else dsa.empty((0, n_features), layout.dtype)
    y = dsa.concatenate(y_blocks) if y_blocks else None
    coords = _coords(tab, ds, grid, frames)
    return X, y, coords


def _coords(tab, ds, grid, frames):
    """The coordinate frame: pandas when it needs no data values, dask otherwise."""
    if not tab.dropna:
        # anchors depend on sizes and coordinates only: build them now, cheaply
        ids = np.arange(grid.n_samples, dtype=np.int64)
        pos = dict(zip(grid.dims, grid.positions(ids), strict=True))
        return anchor_frame(grid, coordinate_values(ds, grid.dims), ids, pos)
    import dask.dataframe as dd

    meta = pd.DataFrame(
        {d: pd.Series(dtype=(ds[d].dtype if d in ds.coords else np.int64)) for d in grid.dims},
        index=pd.Index([], dtype=np.int64, name="sample"),
    )
    return dd.from_delayed(frames, meta=meta, verify_meta=False)
