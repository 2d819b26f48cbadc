"""The copy engine: feature arrays and sample ids in, rows of X out.

:class:`RowCopier` writes the row of every requested sample id, choosing for each run
of ids the fastest of three ways, all giving the same rows:

* ids covering whole *blocks* (every sample at one position of the outermost dim, in
  order) are copied block by block from strided views of the windows;
* increasing ids with gaps (a mask, ``dropna``) are copied from groups of those blocks;
* any other ids (shuffled, scattered) one by one with fancy indexing.

Large gathers are split among threads at block edges. Rows that need more than their
window cells (centering, summaries, coordinate features) are finished by a
:class:`~xbatcher_tab._engine.finish.Finisher` while they are in cache. How large a piece of
each kind is, is a :class:`CopyBudget` passed in: it decides speed, never the rows.

With the numba engine (:mod:`~xbatcher_tab._engine.choice`), every gather but plain whole
blocks (copied by numpy at memory speed) is one compiled pass per variable that writes
each window straight into its row and centers it there; the extra columns are then
written by the finisher. Same rows, another implementation behind the same interface.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np

from .._core.coords import sample_positions
from .._core.plan import SampleGrid
from .._core.window import WindowSpec
from .compiled import CompiledGather
from .kernels import contiguous_run, copy_friendly_view, gather_rows, single_threaded_blas
from .runtime import CopyBudget

__all__ = ["RowCopier", "block_subset", "cache_groups", "whole_blocks"]


class Finishing(Protocol):
    """What the copier asks of the rows' finishing (see
    :class:`~xbatcher_tab._engine.finish.Finisher`)."""

    active: bool  # whether rows need more than their window cells copied
    needs_positions: bool  # whether the extra columns depend on the samples' positions
    centers: bool  # whether it centers (a BLAS update per chunk)

    def extra_columns(self, pos: Mapping[Hashable, np.ndarray]) -> dict: ...

    def finish(self, out: np.ndarray, extra: Mapping[int, np.ndarray]) -> None: ...

    def centering(self, feature: Any, extra: Mapping) -> tuple[str | None, Any, int]: ...

    def write_extra(self, out: np.ndarray, extra: Mapping, rows: Any = None) -> None: ...


class RowCopier:
    """Rows of X for any global sample ids of one table.

    Parameters
    ----------
    features : list of FeatureArray
        Each variable's windows (``arr``, ``dims``, ``axes``, ``sizes``, ``steps``,
        ``columns``, ``scattered_windows``).
    grid : SampleGrid
        The table's samples (of a slab: its positions along the outermost dim).
    window : WindowSpec
    first_id : int
        Global id of the grid's first sample.
    finisher : Finisher
        The columns computed rather than copied.
    dtype, n_features : the rows' dtype and length.
    n_jobs : int
        Threads that split large gathers.
    budget : CopyBudget
    engine : str
        The ``engine`` option: "auto", "numba" or "numpy" (see :mod:`~xbatcher_tab._engine.choice`).
    """

    def __init__(
        self,
        features: Sequence[Any],
        grid: SampleGrid,
        window: WindowSpec,
        first_id: int,
        finisher: Finishing,
        dtype: np.dtype,
        n_features: int,
        n_jobs: int = 1,
        budget: CopyBudget | None = None,
        engine: str = "auto",
    ) -> None:
        self.features = list(features)
        self.grid = grid
        self.window = window
        self.first_id = first_id
        self.finisher = finisher
        self.dtype = np.dtype(dtype)
        self.n_features = n_features
        self.n_jobs = n_jobs
        self.budget = CopyBudget() if budget is None else budget
        self.compiled = CompiledGather.of(engine, self.features, self.dtype)

    @property
    def kernels(self):
        """The compiled kernels' module when they copy these rows, else None."""
        return None if self.compiled is None else self.compiled.kernels

    def positions(self, ids) -> dict[Hashable, np.ndarray]:
        """Position along each grid dim of each global sample id."""
        return sample_positions(self.grid, ids, self.first_id)

    def rows(
        self,
        ids,
        pos: dict | None = None,
        out: np.ndarray | None = None,
        at: np.ndarray | None = None,
    ) -> np.ndarray:
        """The rows of ``ids`` (``pos``: their positions, if known) in ``out`` (a new
        ``(len(ids), n_features)`` array by default) or, with ``at`` (distinct row
        numbers of ``out``, one per id), the row of ``ids[i]`` in ``out[at[i]]``."""
        ids = np.asarray(ids, dtype=np.int64)
        out = check_out(out, at, ids.size, self.n_features, self.dtype)

        def fill(part: slice) -> None:
            where = None if pos is None else {d: p[part] for d, p in pos.items()}
            if at is None:
                self._fill(ids[part], where, out[part])
            else:
                self._fill(ids[part], where, out, at[part])

        parts = self.thread_parts(ids)
        with single_threaded_blas() if self.finisher.centers else contextlib.nullcontext():
            if len(parts) == 1:
                fill(slice(None))
                return out
            # each thread fills its own rows; numpy's copies and BLAS release the GIL
            with ThreadPoolExecutor(len(parts), thread_name_prefix="xbatcher-tab") as pool:
                for job in [pool.submit(fill, part) for part in parts]:
                    job.result()
        return out

    def thread_parts(self, ids: np.ndarray) -> list[slice]:
        """Rows of ``ids`` for each of the ``n_jobs`` threads: one part for a small
        gather; cut at block edges where the ids run in whole blocks, so every thread
        copies whole blocks."""
        n = ids.size
        row_bytes = self.n_features * self.dtype.itemsize
        k = min(self.n_jobs, max(1, n * row_bytes // self.budget.thread_min_bytes))
        if k <= 1:
            return [slice(0, n)]
        cuts = [round(i * n / k) for i in range(k + 1)]
        first, last = whole_blocks(ids - self.first_id, self.grid.inner)
        block = self.grid.inner
        if last > first:
            cuts = [
                c if not first < c < last else first + round((c - first) / block) * block
                for c in cuts
            ]
        cuts = sorted(set(cuts))
        return [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]

    def _fill(
        self, ids: np.ndarray, pos: dict | None, out: np.ndarray, at: np.ndarray | None = None
    ) -> None:
        """Rows of ``ids`` into ``out`` (or ``out[at]``), on the calling thread."""
        local = ids - self.first_id
        block = self.grid.inner
        first, last = whole_blocks(local, block)
        if self.kernels is not None and (self.finisher.active or first == last):
            self._copy_compiled(ids, 0, ids.size, out, pos, at)  # one pass, finished
            return
        for row in range(first, last, block):
            part = slice(row, row + block)
            with _staged(out, at, part) as target:
                self._copy_block(int(local[row]) // block, target, ids[part])
        for lo, hi in ((0, first), (last, ids.size)):
            if hi > lo and self.kernels is not None:
                self._copy_compiled(ids, lo, hi, out, pos, at)
            elif hi > lo:
                self._copy_sparse(ids, local, lo, hi, out, pos, at)

    def _copy_compiled(
        self, ids, lo: int, hi: int, out: np.ndarray, pos, at: np.ndarray | None
    ) -> None:
        """Rows ``[lo, hi)`` of ids, any ids, with the compiled kernel (see
        :class:`~xbatcher_tab._engine.compiled.CompiledGather`), a chunk of rows at a
        time whose bookkeeping (some 64 bytes a row) takes about ``chunk_bytes``."""
        chunk = max(1, self.budget.chunk_bytes // 64)
        for part, where in self._chunks(ids, lo, hi, pos, chunk):
            rows = np.arange(part.start, part.stop) if at is None else at[part]
            self.compiled.gather(
                ids[part], where, out, rows, self.finisher, self._extra(where), self.budget
            )

    def _copy_sparse(
        self, ids, local, lo: int, hi: int, out: np.ndarray, pos, at: np.ndarray | None
    ) -> None:
        """Rows ``[lo, hi)`` of ids that are not whole blocks. Increasing ids (a mask or
        ``dropna`` left gaps) that keep at least a quarter of a block are copied from
        whole-block views (:meth:`_copy_block_subset`); the rest one by one, in
        cache-sized chunks finished as they are copied."""
        block = self.grid.inner
        part_ids = local[lo:hi]
        if not (block and part_ids.size > 1 and np.all(np.diff(part_ids) > 0)):
            self._copy_chunks(ids, lo, hi, out, pos, at)
            return
        blocks = part_ids // block
        edges = np.flatnonzero(np.diff(blocks)) + 1
        starts = np.r_[0, edges]
        stops = np.r_[edges, part_ids.size]
        dense = (stops - starts) * 4 >= block
        sparse_from = None  # first row of the current run of sparse blocks
        for a, b, is_dense in zip(starts, stops, dense, strict=True):
            if not is_dense:
                sparse_from = a if sparse_from is None else sparse_from
                continue
            if sparse_from is not None:  # the sparse blocks before, in one go
                self._copy_chunks(ids, lo + sparse_from, lo + a, out, pos, at)
                sparse_from = None
            run = slice(lo + a, lo + b)
            p0 = int(blocks[a])
            with _staged(out, at, run) as target:
                self._copy_block_subset(p0, part_ids[a:b] - p0 * block, target, ids[run])
        if sparse_from is not None:
            self._copy_chunks(ids, lo + sparse_from, hi, out, pos, at)

    def _copy_chunks(
        self, ids, lo: int, hi: int, out: np.ndarray, pos, at: np.ndarray | None
    ) -> None:
        """Rows ``[lo, hi)`` one by one (fancy indexing), a cache-sized chunk at a time;
        with ``at``, put straight in their rows of ``out`` unless they need finishing."""
        chunk = max(1, self.budget.chunk_bytes // max(1, out.shape[1] * out.itemsize))
        for part, where in self._chunks(ids, lo, hi, pos, chunk):
            if at is not None and not self.finisher.active:
                self._copy_rows(where, out, at[part])
                continue
            with _staged(out, at, part) as target:
                self._copy_rows(where, target)
                self.finisher.finish(target, self._extra(where))

    def _chunks(self, ids, lo: int, hi: int, pos, size: int):
        """Rows ``[lo, hi)`` of ids ``size`` at a time: ``(slice, positions)`` pairs,
        the positions taken from ``pos`` if given, else found from the ids."""
        for start in range(lo, hi, size):
            part = slice(start, min(start + size, hi))
            if pos is None:
                yield part, self.positions(ids[part])
            else:
                yield part, {d: p[part] for d, p in pos.items()}

    def _extra(self, pos: Mapping[Hashable, np.ndarray] | None, ids=None) -> dict:
        """The finisher's extra columns of some rows (positions from ``ids`` if not
        given, only when they are needed)."""
        if not self.finisher.needs_positions:
            return {}
        return self.finisher.extra_columns(self.positions(ids) if pos is None else pos)

    def _copy_rows(
        self, pos: Mapping[Hashable, np.ndarray], out: np.ndarray, at: np.ndarray | None = None
    ) -> None:
        """Rows at ``pos`` (positions per grid dim), one fancy-indexed gather per
        variable, into ``out`` (rows, n_features) or its rows ``at``."""
        n = out.shape[0] if at is None else at.size
        for f in self.features:
            index = tuple(pos[d] for d in f.dims)
            windows = f.scattered_windows(n, self.budget)
            gather_rows(windows, index, out[:, f.columns], at=at)

    def _copy_block(self, p0: int, out: np.ndarray, ids: np.ndarray) -> None:
        """Rows of every sample at position ``p0`` of the outermost dim, in id order.

        ``out``: (inner, n_features), ``inner`` being the product of the other dims'
        counts; ``ids``: their ids. Per variable: cut the cells that position's windows
        read along the outermost dim into a contiguous slab (so a window's trailing
        cells become long runs), view all windows of the slab, and copy them in one
        ``copyto``; or, when rows need finishing, a cache-sized group of positions of
        the first inner dim at a time, each group finished while in cache.
        """
        views = block_views(self.features, self.grid, self.window, p0)
        if not self.finisher.active:
            for f, view in zip(self.features, views, strict=True):
                np.copyto(block_target(f.columns, out, view), view)
            return
        extra = self._extra(None, ids)  # for the whole block, vectorized
        for lo, hi, part in cache_groups(self.grid, out.shape[1] * out.itemsize, self.budget):
            group = out[lo:hi]
            for f, view in zip(self.features, views, strict=True):
                np.copyto(block_target(f.columns, group, view[part]), view[part])
            self.finisher.finish(group, {c: v[lo:hi] for c, v in extra.items()})

    def _copy_block_subset(
        self, p0: int, inner: np.ndarray, out: np.ndarray, ids: np.ndarray
    ) -> None:
        """Rows of some samples at position ``p0`` of the outermost dim: ``inner`` are
        their (increasing) positions within the block (see :func:`block_subset`)."""
        views = block_views(self.features, self.grid, self.window, p0)
        extra = self._extra(None, ids)
        block_subset(self.features, views, self.grid, self.budget, self.finisher, inner, out, extra)


def block_subset(
    features: Sequence[Any],
    views: list,
    grid: SampleGrid,
    budget: CopyBudget,
    finisher: Finishing,
    inner: np.ndarray,
    out: np.ndarray,
    extra: Mapping,
) -> None:
    """Rows of the samples at positions ``inner`` (increasing) of one block, whose
    windows ``views`` show, taken a cache-sized group at a time. Where every variable's
    windows are read in long runs (the copy-friendly views of windows of 5 cells or
    more), the kept windows are gathered straight into ``out`` by fancy indexing;
    otherwise the group's windows are copied whole into a scratch buffer and the kept
    rows moved to ``out``. Groups without a kept sample are skipped either way."""
    direct = all(  # bytes per contiguous run of a window's cells (its last axes)
        f.sizes
        and contiguous_run(view, range(view.ndim - len(f.sizes), view.ndim), f.sizes)
        * view.itemsize
        >= budget.direct_run_bytes
        for f, view in zip(features, views, strict=True)
    )
    row_bytes = out.shape[1] * out.itemsize
    scratch = None
    for lo, hi, part in cache_groups(grid, row_bytes, budget):
        a, b = np.searchsorted(inner, [lo, hi])
        if a == b:
            continue  # no kept sample in this group: nothing is copied
        kept = out[a:b]
        if direct:
            for f, view in zip(features, views, strict=True):
                windows = view[part]
                cells = np.unravel_index(inner[a:b] - lo, windows.shape[: -len(f.sizes)])
                kept[:, f.columns] = windows[cells].reshape(b - a, -1)
        else:
            if scratch is None or scratch.shape[0] < hi - lo:
                scratch = np.empty((hi - lo, out.shape[1]), dtype=out.dtype)
            group = scratch[: hi - lo]
            for f, view in zip(features, views, strict=True):
                np.copyto(block_target(f.columns, group, view[part]), view[part])
            np.take(group, inner[a:b] - lo, axis=0, out=kept, mode="clip")  # no buffer
        finisher.finish(kept, {c: v[a:b] for c, v in extra.items()})


def check_out(out: np.ndarray | None, at, n: int, n_features: int, dtype) -> np.ndarray:
    """``out`` (a new array when None) after checking that it can take ``n`` rows, or
    the rows ``at`` (one per row) of it."""
    shape = (n, n_features)
    if out is None:
        if at is not None:
            raise ValueError("at needs out, the array whose rows it numbers")
        return np.empty(shape, dtype=dtype)
    if out.dtype != dtype or (out.shape != shape if at is None else out.shape[1:] != shape[1:]):
        raise ValueError(f"out must have shape {shape} and dtype {dtype}")
    if at is not None and np.shape(at) != (n,):
        raise ValueError(f"at must hold one row of out per id ({n}), not {at!r}")
    if at is not None and n:
        at = np.asarray(at)
        if at.dtype.kind not in "iu" or at.min() < 0 or at.max() >= out.shape[0]:
            raise ValueError(
                f"at must hold row numbers of out, 0 to {out.shape[0] - 1}, not {at!r}"
            )
        if np.unique(at).size != n:
            raise ValueError(f"at must hold distinct rows of out (one per id), not {at!r}")
    if not out.flags.writeable:
        raise ValueError("out is read-only: give an array the rows can be written to")
    return out


@contextlib.contextmanager
def _staged(out: np.ndarray, at: np.ndarray | None, part: slice):
    """Where rows ``part`` of a gather are written: ``out[part]`` itself or, when the
    gather's rows go to ``out[at]``, a scratch buffer put there afterwards."""
    if at is None:
        yield out[part]
        return
    rows = at[part]
    buffer = np.empty((rows.size, out.shape[1]), dtype=out.dtype)
    yield buffer
    out[rows] = buffer


def whole_blocks(local: np.ndarray, block: int) -> tuple[int, int]:
    """Rows ``[first, last)`` of ``local`` (ids counted from the table's first) that
    are whole blocks of ``block`` ids, in order.

    Examples
    --------
    >>> whole_blocks(np.arange(2, 11), 3)
    (1, 7)
    """
    n = local.size
    if not block or n < block or local[-1] - local[0] != n - 1:
        return 0, 0
    if not np.all(np.diff(local) == 1):
        return 0, 0
    first = int(-local[0] % block)
    return first, first + (n - first) // block * block


def cache_groups(grid: SampleGrid, row_bytes: int, budget: CopyBudget):
    """``(first row, stop row, view index)`` of cache-sized groups of a block: runs of
    positions along the first inner dim or, when one such position is larger than
    ``budget.group_bytes``, runs along the second inner dim at one position of the
    first."""
    inner_dims = grid.dims[1:]
    if not inner_dims:
        yield 0, grid.inner, ()
        return
    n0 = grid.counts[1]
    rows_per = grid.inner // max(1, n0)
    if rows_per * row_bytes <= budget.group_bytes or len(inner_dims) < 2:
        group = max(1, budget.group_bytes // max(1, rows_per * row_bytes))
        for i in range(0, n0, group):
            yield i * rows_per, min(i + group, n0) * rows_per, (slice(i, i + group),)
        return
    n1 = grid.counts[2]
    rows_per1 = rows_per // max(1, n1)
    group = max(1, budget.group_bytes // max(1, rows_per1 * row_bytes))
    for i in range(n0):
        for j in range(0, n1, group):
            stop = min(j + group, n1)
            yield (
                i * rows_per + j * rows_per1,
                i * rows_per + stop * rows_per1,
                (slice(i, i + 1), slice(j, stop)),
            )


def block_target(columns: slice, rows: np.ndarray, view: np.ndarray) -> np.ndarray:
    """A variable's ``columns`` of ``rows`` shaped like ``view`` (a view of ``rows``)."""
    target = rows[:, columns].reshape(view.shape)
    if not np.shares_memory(target, rows):  # splitting axes is always a view
        raise AssertionError("block target is not a view of the output")
    return target


def block_views(
    features: Sequence[Any], grid: SampleGrid, window: WindowSpec, p0: int
) -> list[np.ndarray]:
    """Per variable, every window of block ``p0`` shaped ``(grid.counts[1:]) + (window
    cells)`` (broadcast along dims the variable lacks)."""
    d0, inner_dims = grid.dims[0], grid.dims[1:]
    views = []
    for f in features:
        arr, dims = f.arr, list(f.dims)
        if d0 in dims:
            ax = dims.index(d0)
            first = p0 * window.stride(d0)
            cut = (slice(None),) * ax + (slice(first, first + window.size(d0)),)
            arr = np.ascontiguousarray(arr[cut])
        budget = f.arr.itemsize * grid.inner * (f.columns.stop - f.columns.start)
        # view: (positions along each of `dims`) + (window cells)
        view = copy_friendly_view(arr, f.axes, f.sizes, f.steps, budget)
        if d0 in dims:  # the cut holds exactly one position along d0
            view = view[(slice(None),) * dims.index(d0) + (0,)]
            dims.remove(d0)
        # positions along the variable's dims -> the grid's inner dims, in grid
        # order, broadcast along those it lacks: (grid.counts[1:]) + (cells)
        view = view[tuple(slice(0, grid.counts[grid.dims.index(d)]) for d in dims)]
        view = view.transpose(
            [dims.index(d) for d in inner_dims if d in dims] + list(range(len(dims), view.ndim))
        )
        view = view[tuple(slice(None) if d in dims else np.newaxis for d in inner_dims)]
        cells = view.shape[len(inner_dims) :]
        views.append(np.broadcast_to(view, grid.counts[1:] + cells))
    return views
