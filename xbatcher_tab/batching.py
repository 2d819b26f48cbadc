"""Batches of a window table, for ``partial_fit`` loops and xgboost's data iterators.

Samples are enumerated over the whole dataset first (the order of
``WindowTabularizer.tabularize``), then grouped into batches, so overlap crosses batch
edges and no sample is lost or repeated. A batch is gathered only when it is asked for.

Where the data lives
--------------------
* numpy-backed data is one in-memory source: ``shuffle=True`` permutes every sample of
  the epoch.
* dask-backed data (zarr, netCDF opened with chunks) is read in *slabs*: the samples
  whose windows start in one source chunk along the outermost dim, plus the window's
  halo. Sequential epochs read each slab once. ``shuffle=True`` visits the slabs in a
  random order, ``shuffle_buffer`` slabs at a time, and permutes the samples of those
  slabs: every sample once per epoch, each chunk read about once, and batches that mix
  ``shuffle_buffer`` chunks (not the whole epoch). ``shuffle="full"`` loads the whole
  source once and permutes every sample, for sources that fit in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ._assemble import is_dask
from ._table import Table, as_dataset, select_needed

__all__ = ["Batch", "iter_batches"]


@dataclass
class Batch:
    """One batch: rows of X, their labels (None without a target) and coordinates."""

    X: np.ndarray
    y: np.ndarray | None
    coords: pd.DataFrame

    def __iter__(self):  # so that ``for X, y, coords in ...`` works
        return iter((self.X, self.y, self.coords))


@dataclass
class _Slab:
    """Samples at positions ``[p0, p1)`` along the outermost dim, read from ``cells``."""

    p0: int
    p1: int
    cells: slice


def _slabs(tab, ds: xr.Dataset, table_dims: tuple, counts: tuple) -> list[_Slab]:
    """Cut the outermost sample dim at the source's chunk edges."""
    layout = tab.layout_
    d0 = table_dims[0]
    n0 = counts[0]
    size = layout.window.as_dict.get(d0, 1)
    stride = size - dict(zip(layout.window.dims, layout.window.overlaps, strict=True)).get(d0, 0)
    reach = size + layout.lead.get(d0, 0)
    try:
        chunks = ds.chunksizes.get(d0)
    except ValueError:  # variables chunked differently: follow the first one with d0
        chunks = next((v.chunksizes[d0] for v in ds.data_vars.values() if d0 in v.dims), None)
    edges = np.cumsum((0, *chunks)) if chunks else np.array([0, ds.sizes[d0]])
    slabs = []
    for c0, c1 in zip(edges[:-1], edges[1:], strict=True):
        p0 = min(n0, -(-int(c0) // stride))
        p1 = min(n0, -(-int(c1) // stride))
        if p1 > p0:
            slabs.append(_Slab(p0, p1, slice(p0 * stride, (p1 - 1) * stride + reach)))
    return slabs


class _Source:
    """The table's samples, loaded slab by slab (or all at once), with global ids."""

    def __init__(self, tab, data, shuffle, keep: int = 2) -> None:
        ds = as_dataset(data)
        layout = tab.layout_
        ds = select_needed(layout, ds)
        self.tab = tab
        self.keep = keep  # slabs kept loaded: a shuffle buffer plus the one before
        self.lazy = any(is_dask(v.data) for v in ds.variables.values())
        if not self.lazy or shuffle == "full":
            self.ds = ds.compute() if self.lazy else ds
            whole = Table(layout, self.ds)
            self.grid = whole.grid
            self.slabs = [_Slab(0, self.grid.counts[0], slice(None))] if self.grid.counts else []
            self._cache = {0: whole}
        else:
            self.ds = ds
            # the grid of the whole data, without loading it
            self.grid = Table.grid_for(layout, {d: int(ds.sizes[d]) for d in layout.dims})
            self.slabs = _slabs(tab, ds, self.grid.dims, self.grid.counts)
            self._cache = {}
        self.inner = self.grid.n_samples // self.grid.counts[0] if self.grid.n_samples else 0

    def table(self, k: int) -> Table:
        """The Table of slab ``k`` (the last ``keep`` stay loaded)."""
        if k not in self._cache:
            slab = self.slabs[k]
            d0 = self.grid.dims[0]
            part = self.ds.isel({d0: slab.cells}).compute()
            if len(self._cache) >= self.keep:
                self._cache.pop(next(iter(self._cache)))
            self._cache[k] = Table(self.tab.layout_, part, offsets={d0: slab.cells.start})
        return self._cache[k]

    def valid_ids(self, k: int, dropna: bool) -> np.ndarray:
        """Global ids of the samples of slab ``k`` (read only if ``dropna`` needs it)."""
        slab = self.slabs[k]
        if not dropna:
            return np.arange(slab.p0 * self.inner, slab.p1 * self.inner, dtype=np.int64)
        return self.table(k).valid_ids(dropna) + slab.p0 * self.inner


def _epoch_order(
    source: _Source, dropna: bool, shuffle, rng: np.random.Generator | None, buffer: int
) -> Iterator[tuple[list[int], np.ndarray]]:
    """Yield (slab indices, global ids in epoch order) group by group."""
    n_slabs = len(source.slabs)
    if not shuffle:
        for k in range(n_slabs):
            yield [k], source.valid_ids(k, dropna)
        return
    order = rng.permutation(n_slabs) if n_slabs > 1 else np.arange(n_slabs)
    for g in range(0, n_slabs, buffer):
        group = [int(k) for k in order[g : g + buffer]]
        ids = np.concatenate([source.valid_ids(k, dropna) for k in group])
        yield group, rng.permutation(ids)


def _gather(source: _Source, groups: list[int], ids: np.ndarray) -> Batch:
    """Rows for global ``ids`` (all within the slabs of ``groups``), in that order."""
    tables = {k: source.table(k) for k in groups}
    if len(groups) == 1:
        k = groups[0]
        local = ids - source.slabs[k].p0 * source.inner
        return _rows(tables[k], local, ids)
    slab_of = (
        np.searchsorted(
            [source.slabs[k].p0 * source.inner for k in sorted(groups)], ids, side="right"
        )
        - 1
    )
    ordered = sorted(groups)
    parts = []
    for i, k in enumerate(ordered):
        mask = slab_of == i
        if mask.any():
            local = ids[mask] - source.slabs[k].p0 * source.inner
            parts.append((mask, _rows(tables[k], local, ids[mask])))
    X = np.empty((ids.size, parts[0][1].X.shape[1]), dtype=parts[0][1].X.dtype)
    y = None
    frames = []
    positions = []
    for mask, part in parts:
        X[mask] = part.X
        if part.y is not None:
            if y is None:
                y = np.empty(ids.size, dtype=part.y.dtype)
            y[mask] = part.y
        frames.append(part.coords)
        positions.append(np.flatnonzero(mask))
    order = np.argsort(np.concatenate(positions), kind="stable")
    coords = pd.concat(frames).iloc[order]
    return Batch(X, y, coords)


def _rows(table: Table, local: np.ndarray, ids: np.ndarray) -> Batch:
    """Rows of a slab's ``local`` ids, labelled with their global ``ids``."""
    X, y, coords = table.rows(local)
    coords.index = pd.Index(ids, name="sample")
    return Batch(X, y, coords)


def iter_batches(
    tab,
    data: xr.Dataset | xr.DataArray,
    batch_size: int = 65536,
    shuffle: bool | str = False,
    random_state: int | np.random.Generator | None = None,
    drop_last: bool = False,
    start: int = 0,
    shuffle_buffer: int = 4,
) -> Iterator[Batch]:
    """Yield the table of ``data`` in batches of ``batch_size`` samples.

    See :meth:`WindowTabularizer.iter_batches`.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
        raise TypeError(f"batch_size must be a positive integer, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    if shuffle not in (True, False, "full"):
        raise ValueError(f"shuffle must be True, False or 'full', got {shuffle!r}")
    if isinstance(start, bool) or not isinstance(start, int | np.integer) or start < 0:
        raise ValueError(f"start must be a batch index >= 0, got {start!r}")
    if (
        isinstance(shuffle_buffer, bool)
        or not isinstance(shuffle_buffer, int)
        or shuffle_buffer < 1
    ):
        raise ValueError(f"shuffle_buffer must be a positive integer, got {shuffle_buffer!r}")
    source = _Source(tab, data, shuffle, keep=2 * shuffle_buffer if shuffle else 2)
    rng = np.random.default_rng(random_state) if shuffle else None
    # arguments are checked now; batches are gathered only as they are asked for
    return _batches(
        source,
        tab.dropna,
        batch_size,
        shuffle,
        rng,
        drop_last,
        int(start) * batch_size,
        shuffle_buffer,
    )


def _batches(source, dropna, batch_size, shuffle, rng, drop_last, skip, shuffle_buffer):
    """The batches of an epoch, skipping its first ``skip`` samples."""
    pending: list[tuple[list[int], np.ndarray]] = []  # ids waiting for a full batch
    n_pending = 0

    def flush(n: int) -> Batch:
        nonlocal pending, n_pending
        pieces, rest, taken = [], [], 0
        for groups, ids in pending:
            if taken < n:
                take = min(n - taken, ids.size)
                pieces.append(_gather(source, groups, ids[:take]))
                taken += take
                if take < ids.size:
                    rest.append((groups, ids[take:]))
            else:
                rest.append((groups, ids))
        pending, n_pending = rest, n_pending - n
        return pieces[0] if len(pieces) == 1 else _concat(pieces)

    for groups, ids in _epoch_order(source, dropna, shuffle, rng, shuffle_buffer):
        if skip:
            dropped = min(skip, ids.size)
            ids, skip = ids[dropped:], skip - dropped
        if ids.size == 0:
            continue
        pending.append((groups, ids))
        n_pending += ids.size
        while n_pending >= batch_size:
            yield flush(batch_size)
    if n_pending and not drop_last:
        yield flush(n_pending)


def _concat(parts: list[Batch]) -> Batch:
    y = None if parts[0].y is None else np.concatenate([p.y for p in parts])
    return Batch(np.concatenate([p.X for p in parts]), y, pd.concat([p.coords for p in parts]))
