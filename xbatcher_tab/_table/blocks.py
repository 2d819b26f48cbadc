"""The window table as lazy dask arrays, block by block from the source's own chunks.

Each block of rows is one slab of a :class:`~xbatcher_tab._table.slabs.SlabSource` (a source
chunk along the outermost dim plus the window's halo), cut by the same kernel as the
eager path, so ``to_dask(ds)`` and ``tabularize(ds)`` agree by construction. Building
the graph computes nothing; each task holds one slab and its rows, never the table.
Tasks are module-level functions of plain values, so they pickle to remote workers.
"""

from __future__ import annotations

import dask.array as dsa
import numpy as np
import pandas as pd
import xarray as xr

from .._core.coords import sample_frame
from .._core.optional import require
from .._engine.runtime import Runtime
from .._fit.layout import Layout
from .sampling import Sampled
from .slabs import SlabSource, map_slabs

__all__ = ["to_dask"]

BLOCK_BYTES = 128 * 2**20  # blocks of numpy-backed data: about 128 MiB of X


def to_dask(
    layout: Layout,
    data: xr.Dataset | xr.DataArray,
    runtime: Runtime | None = None,
    sample: float | int | None = None,
    seed: object = None,
):
    """``X, y, coords`` of the table as dask objects; see
    :meth:`WindowTabularizer.to_dask`. ``runtime``: how each task gathers its rows
    (on one thread; default: the options in force now). ``sample``, ``seed``: only the
    samples drawn (:mod:`~xbatcher_tab._table.sampling`), each block its slab's."""
    source = SlabSource(layout, data, block_bytes=BLOCK_BYTES, runtime=runtime)
    n_features = layout.n_features
    y_dtype = source.ds[layout.target].dtype if source.labelled else None
    drawn = None if sample is None else Sampled(source, sample, seed)
    if drawn is None:
        tasks = map_slabs(source, _kept_rows, nout=3)
    else:
        each = [(drawn.positions(k),) for k in range(len(source.slabs))]
        tasks = map_slabs(source, _drawn_rows, each=each, nout=3)
    x_blocks, y_blocks, frames = [], [], []
    for k, (task, slab) in enumerate(zip(tasks, source.slabs, strict=True)):
        rows = np.nan if layout.selects else slab.n_samples
        if drawn is not None:
            rows = drawn.positions(k).size
        x_blocks.append(dsa.from_delayed(task[0], (rows, n_features), dtype=layout.dtype))
        if y_dtype is not None:
            y_blocks.append(dsa.from_delayed(task[1], (rows,), dtype=y_dtype))
        frames.append(task[2])
    X = dsa.concatenate(x_blocks) if x_blocks else dsa.empty((0, n_features), layout.dtype)
    y = dsa.concatenate(y_blocks) if y_blocks else None
    return X, y, _coords(source, frames, drawn)


def _kept_rows(table):
    """Every row a slab's table keeps, with global ids (a dask task runs this)."""
    return table.rows(table.valid_ids())


def _drawn_rows(table, positions):
    """The rows of a slab's drawn samples (``positions`` among those it keeps)."""
    return table.rows(table.valid_ids()[positions])


def _coords(source: SlabSource, frames: list, drawn: Sampled | None = None):
    """The coordinate frame: pandas when it needs no data values, dask otherwise."""
    grid, ds = source.grid, source.ds
    if not source.layout.selects:
        # anchors depend on sizes and coordinates only: build them now, cheaply
        if drawn is None:
            ids = np.arange(grid.n_samples, dtype=np.int64)
        else:
            drawn_ids = [drawn.ids(k) for k in range(len(source.slabs))]
            ids = np.concatenate(drawn_ids) if drawn_ids else np.empty(0, dtype=np.int64)
        return sample_frame(source.coords, grid, ids)
    dd = require(
        "dask.dataframe",
        "dataframe",
        "to_dask of a tabularizer that keeps samples by their values (dropna, where, or "
        "outlier_action='drop') gives the coordinate frame as a dask DataFrame, which",
    )

    meta = pd.DataFrame(
        {d: pd.Series(dtype=(ds[d].dtype if d in ds.coords else np.int64)) for d in grid.dims},
        index=pd.Index([], dtype=np.int64, name="sample"),
    )
    return dd.from_delayed(frames, meta=meta, verify_meta=False)
