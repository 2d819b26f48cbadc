"""Data prepared under a layout: rows of X, labels and coordinate frames for any ids.

A :class:`Table` holds each feature variable transposed once so its last window dim is
contiguous. Rows are then gathered for any list of sample ids by the same kernel,
whether the ids cover the whole table, a batch, a shuffled subset or a slab of a larger
source. Ids are always *global*: a table cut from a slab of the data (``start`` cells
into the outermost dim) knows where its samples sit in the whole grid.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from ._columns import VariableColumns
from ._coords import anchor_cells, anchor_frame, coordinate_features, coordinate_values
from ._kernels import (
    centre_columns,
    contiguous_run,
    copy_friendly_view,
    expanded_view,
    gather_rows,
    single_threaded_blas,
    window_any,
    window_summaries,
    window_view,
)
from ._layout import Layout, check_layout
from ._plan import SampleGrid

__all__ = ["DataContext", "Table", "Tabular"]


class Tabular(NamedTuple):
    """Rows of a window table: what ``tabularize`` returns and every batch iterator
    yields. Unpack it (``X, y, coords = ...``), index it (``rows[0]``) or use the
    attributes: ``X`` (``(n_samples, n_features)``), ``y`` (``(n_samples,)``, None
    without a target) and ``coords`` (one row per sample: the anchor's coordinate label
    along every dim, indexed by the sample's id ``sample`` in the full enumeration).
    """

    X: np.ndarray | pd.DataFrame
    y: np.ndarray | pd.Series | None
    coords: pd.DataFrame

    def to_pandas(self, feature_names: list, target: Hashable | None) -> Tabular:
        """X as a DataFrame with the feature names as columns, y as a Series named after
        the target, both indexed by the samples' ids (the index of ``coords``)."""
        index = self.coords.index
        X = pd.DataFrame(self.X, index=index, columns=feature_names, copy=False)
        y = None if self.y is None else pd.Series(self.y, index=index, name=target, copy=False)
        return Tabular(X, y, self.coords)


@dataclass(frozen=True)
class Extent:
    """What a table holds along a dim with a boundary, or along its outermost dim:
    ``cells`` of the data it was given, plus ``before`` and ``after`` cells of margin
    (``kind`` "periodic": the cells from the other side of the grid, which the held
    cells must then be whole; "pad" or None: NaN)."""

    cells: slice
    before: int = 0
    after: int = 0
    kind: str | None = None


def _with_margins(values: np.ndarray, extents: Sequence[tuple[int, Extent]], dtype) -> np.ndarray:
    """``values`` in a new array of ``dtype`` with margins along some axes: wrapped
    from the other side of the axis (periodic) or NaN. One axis at a time, over the
    whole extent of the others, so corners wrap (or pad) along every axis."""
    shape = list(values.shape)
    core = [slice(None)] * values.ndim
    for axis, e in extents:
        shape[axis] += e.before + e.after
        core[axis] = slice(e.before, e.before + values.shape[axis])
    arr = np.empty(shape, dtype=dtype)
    arr[tuple(core)] = values
    for axis, e in extents:
        n = values.shape[axis]

        def at(cells: slice, axis: int = axis) -> tuple:
            return (slice(None),) * axis + (cells,)

        if e.kind == "periodic":
            if e.before > n or e.after > n:
                raise ValueError(f"a periodic window wraps more than once around {n} cells")
            arr[at(slice(0, e.before))] = arr[at(slice(n, n + e.before))]
            arr[at(slice(e.before + n, e.before + n + e.after))] = arr[
                at(slice(e.before, e.before + e.after))
            ]
        elif e.before or e.after:  # the layout allows "pad" for float dtypes only
            arr[at(slice(0, e.before))] = np.nan
            arr[at(slice(e.before + n, None))] = np.nan
    return arr


@dataclass
class FeatureArray:
    """One feature variable's values laid out for gathering its windows.

    ``arr`` is the variable in the layout's dtype, transposed to ``dims``: its dims that
    are not windowed (in sample order), then its windowed dims (in feature order), the
    last one contiguous. ``axes``, ``sizes`` and ``steps`` describe the windows for
    :func:`~xbatcher_tab._kernels.window_view`; ``columns`` are its features in X.
    """

    dims: tuple[Hashable, ...]
    arr: np.ndarray
    axes: tuple[int, ...]
    sizes: tuple[int, ...]
    steps: tuple[int, ...]
    columns: slice

    plan: VariableColumns

    @classmethod
    def prepare(
        cls,
        layout: Layout,
        plan: VariableColumns,
        var: xr.Variable,
        extents: Mapping[Hashable, Extent] | None = None,
    ) -> FeatureArray:
        """The variable laid out for gathering; with scaling, its values standardized
        here, once per grid cell, rather than once per window. ``extents``: along
        these dims, the cells to hold and the margins to add (see :class:`Extent`)."""
        wdims = plan.window_dims
        dims = [d for d in layout.dims if d in var.dims and d not in wdims] + list(wdims)
        values = var.transpose(*dims).values
        extents = {d: e for d, e in (extents or {}).items() if d in dims}
        if extents:
            values = values[tuple(extents[d].cells if d in extents else slice(None) for d in dims)]
        if layout.scaling is not None:
            mean, std = layout.scaling[plan.variable]
            values = (np.asarray(values, dtype=np.float64) - mean) / std
        if any(e.before or e.after for e in extents.values()):
            axes = [(dims.index(d), e) for d, e in extents.items()]
            arr = _with_margins(values, axes, layout.dtype)
        else:
            arr = np.ascontiguousarray(values, dtype=layout.dtype)
        return cls(
            dims=tuple(dims),
            arr=arr,
            axes=tuple(dims.index(d) for d in wdims),
            sizes=tuple(layout.window.size(d) for d in wdims),
            steps=tuple(layout.window.stride(d) for d in wdims),
            columns=plan.cells,
            plan=plan,
        )

    summaries: dict | None = None  # per window position: NaN-aware mean, std, ...

    @property
    def anchor_centred(self) -> bool:
        """Whether its cells are centred on the anchor cell as they are copied."""
        return self.plan.center == "anchor"

    def summarize(self) -> None:
        """The summaries its columns need (stats; the mean for centring on it), once
        for every window of the array."""
        needed = list(self.plan.stats)
        if self.plan.center == "mean" and "mean" not in needed:
            needed.append("mean")
        if needed:
            self.summaries = window_summaries(self.arr, self.axes, self.sizes, self.steps, needed)

    def windows(self) -> np.ndarray:
        """Every window: shape (positions along each of ``dims``) + window ``sizes``."""
        return window_view(self.arr, self.axes, self.sizes, self.steps)

    # expanded_view, once built; bytes of windows gathered one by one so far
    expanded: np.ndarray | None = field(default=None, repr=False, compare=False)
    scattered_bytes: int = field(default=0, repr=False, compare=False)

    EXPANDED_MAX_BYTES = 1 << 29  # larger expansions are never built
    SHORT_RUN_BYTES = 256  # windows read in shorter runs are worth expanding
    PAYBACK = 1.0  # built once the scattered windows hold this many times its bytes

    def scattered_windows(self, n: int) -> np.ndarray:
        """Every window (as :meth:`windows`), for ``n`` windows taken one by one in any
        order (shuffled ids, scattered rows). Windows read in short runs are read from
        an :func:`~xbatcher_tab._kernels.expanded_view` instead, once the windows
        gathered this way add up to ``PAYBACK`` times the expansion's size (so it
        pays for itself) and when it holds at most ``EXPANDED_MAX_BYTES``."""
        if self.expanded is not None:
            return self.expanded
        self.scattered_bytes += n * self.arr.itemsize * int(np.prod(self.sizes))
        cost = self.arr.nbytes * self.sizes[-1] // self.steps[-1] if self.sizes else 0
        worth = (
            len(self.sizes) >= 2
            and contiguous_run(self.arr, self.axes, self.sizes) * self.arr.itemsize
            < self.SHORT_RUN_BYTES
            and cost <= self.EXPANDED_MAX_BYTES
            and self.scattered_bytes >= self.PAYBACK * cost
        )
        if not worth:
            return self.windows()
        with _EXPANDING:  # one build, whichever thread asks first
            if self.expanded is None:
                self.expanded = expanded_view(self.arr, self.axes, self.sizes, self.steps)
        return self.expanded


_EXPANDING = threading.Lock()


@contextlib.contextmanager
def _staged(out: np.ndarray, rows: np.ndarray | None, part: slice):
    """Where rows ``part`` of a gather are written: ``out[part]`` itself or, when the
    gather's rows go to ``out[rows]``, a scratch buffer put there afterwards."""
    if rows is None:
        yield out[part]
        return
    at = rows[part]
    buffer = np.empty((at.size, out.shape[1]), dtype=out.dtype)
    yield buffer
    out[at] = buffer


@dataclass(frozen=True)
class DataContext:
    """What a table cut from a slab needs to know of the whole data.

    ``coords``: each dim's 1-D coordinate values (to label anchors, including forecast
    anchors past the data's end); ``labelled``: whether samples need their label
    inside the data (without, the last windows along lead dims are forecasts and
    there is no ``y``); ``mask``: the layout's ``where`` on the whole data, as
    ``(dims, boolean array)`` (samples whose anchor it marks False are dropped, those
    past its end kept), or None; ``sizes``: the whole data's dim lengths.
    """

    coords: dict
    labelled: bool
    mask: tuple[tuple[Hashable, ...], np.ndarray] | None
    sizes: dict

    @classmethod
    def of(cls, layout: Layout, ds: xr.Dataset, labelled: bool | None = None) -> DataContext:
        """The context of ``ds`` as the whole data (``labelled`` default: whether it
        holds the target variable). Evaluates ``where`` on it (a callable ``where``
        runs on the whole, possibly lazy, data; its mask is computed)."""
        labelled = layout.labelled(ds) if labelled is None else labelled
        return cls(
            coordinate_values(ds, layout.dims),
            labelled,
            _resolve_where(layout, ds),
            {d: int(ds.sizes[d]) for d in layout.dims},
        )


def _resolve_where(layout: Layout, ds: xr.Dataset):
    where = layout.where
    if where is None:
        return None
    mask = where(ds) if callable(where) and not isinstance(where, xr.DataArray) else where
    if not isinstance(mask, xr.DataArray):
        raise TypeError(f"where(data) must give a boolean DataArray, got {type(mask).__name__}")
    extra = [d for d in mask.dims if d not in layout.dims]
    if extra:
        raise ValueError(
            f"where has dims {extra} that the data does not have; its dims are {list(layout.dims)}"
        )
    for d in mask.dims:  # on the data's grid: by label where both have a coordinate
        if d in mask.coords and d in ds.coords and mask[d].dims == (d,):
            mask = mask.reindex({d: ds[d].values}, fill_value=False)
        elif mask.sizes[d] != ds.sizes[d]:
            raise ValueError(
                f"where's {d!r} dimension has length {mask.sizes[d]} but the data's has "
                f"{ds.sizes[d]} (give where a coordinate to align it by label)"
            )
    dims = tuple(d for d in layout.dims if d in mask.dims)
    values = np.asarray(mask.transpose(*dims).values)
    if values.dtype != bool:
        if values.dtype.kind not in "biuf":
            raise TypeError(f"where must be boolean, got dtype {values.dtype}")
        values = np.nan_to_num(values, nan=0.0).astype(bool)
    return dims, values


class Table:
    """Data prepared under a layout, ready to gather rows for any sample ids.

    Parameters
    ----------
    layout : Layout
    ds : Dataset
        Numpy-backed data with the layout's variables.
    start : int
        Where ``ds`` starts along the outermost sample dim in the whole data, when it is
        a slab of it (a multiple of that dim's stride): ids and anchor cells are those
        of the whole data.
    context : DataContext, optional
        What the table needs to know of the whole data (default: ``ds`` is the whole
        data).
    """

    def __init__(
        self,
        layout: Layout,
        ds: xr.Dataset,
        start: int = 0,
        context: DataContext | None = None,
        positions: range | None = None,
    ) -> None:
        context = DataContext.of(layout, ds) if context is None else context
        labelled = context.labelled
        if labelled and not layout.labelled(ds):
            raise ValueError(
                f"the data lacks the target variable {layout.target!r}: labels need it"
            )
        check_layout(layout, ds, labelled)
        self.layout = layout
        self.labelled = labelled
        window = layout.window
        d0 = layout.dims[0]
        whole = layout.grid(context.sizes, labelled)
        if positions is None:
            if start or ds.sizes[d0] != context.sizes[d0]:
                raise ValueError("a slab of the data needs the positions it holds")
            positions = range(whole.counts[0])
        counts = (len(positions),) + whole.counts[1:]
        self.grid: SampleGrid = SampleGrid(whole.dims, counts, window, labelled)
        self.start = start
        self.offset = positions.start * window.stride(d0)  # cells before position 0
        self.first_id = positions.start * self.grid.inner
        extents = self._extents(ds, positions, context.sizes)
        plans, self._coord_columns = layout.column_plan()
        self.features: list[FeatureArray] = []
        for plan in plans:
            feature = FeatureArray.prepare(layout, plan, ds[plan.variable].variable, extents)
            feature.summarize()
            self.features.append(feature)
        self.n_features = self._coord_columns.stop
        self._mask = context.mask
        self._target = None
        if labelled:
            tvar = ds[layout.target].variable
            self._target = (tuple(tvar.dims), np.asarray(tvar.values))
        self._coords = context.coords
        self._coord_lookup = self._coordinate_lookup()

    def _extents(self, ds: xr.Dataset, positions: range, sizes: Mapping) -> dict:
        """What the feature arrays hold along the outermost dim (the cells the
        windows of ``positions`` read, with margins where they reach past the data's
        edges) and along the other dims with a boundary (all cells, with margins)."""
        window = self.layout.window
        d0 = self.layout.dims[0]
        extents = {}
        for d in self.layout.dims:
            kind = window.boundary(d)
            if d == d0 and kind != "periodic":
                extents[d0] = self._outer_extent(ds, positions, sizes[d0])
            elif kind is not None:  # all its cells (a periodic margin wraps from them)
                if d == d0 and (self.start, ds.sizes[d0]) != (0, sizes[d0]):
                    raise ValueError(f"a periodic {d0!r} is read whole, not in slabs")
                extents[d] = Extent(slice(None), *window.margins(d), kind)
        return extents

    def _outer_extent(self, ds: xr.Dataset, positions: range, n: int) -> Extent:
        """The cells of the outermost dim that the windows of ``positions`` read, with
        NaN margins where they reach past the data's edges."""
        window = self.layout.window
        d0 = self.layout.dims[0]
        first = window.first_cell(d0, positions.start)
        last = window.first_cell(d0, positions.stop - 1) + window.size(d0)
        if not len(positions):
            first = last = max(0, first)
        lo, hi = max(first, 0), min(last, n)
        if lo < self.start or hi > self.start + ds.sizes[d0]:
            raise ValueError(
                f"the slab holds cells {self.start}..{self.start + ds.sizes[d0]} of "
                f"{d0!r} but its windows read {lo}..{hi}"
            )
        kind = window.boundary(d0)
        return Extent(slice(lo - self.start, hi - self.start), lo - first, last - hi, kind)

    def _coordinate_lookup(self) -> list[tuple[Hashable, np.ndarray]]:
        """Per coordinate feature (in column order), its dim and its columns for every
        position along that dim: each feature depends on one dim's anchor only, so it
        is computed once per position, not once per sample."""
        lookup = []
        for source, encoding in self.layout.coord_features:
            d = source.partition(".")[0]
            positions = np.arange(self.grid.counts[self.grid.dims.index(d)])
            cells = self.layout.window.anchor_cell(d, positions)
            if d == self.grid.dims[0]:
                cells = cells + self.offset
            lookup.append((d, coordinate_features(self._coords, {d: cells}, [(source, encoding)])))
        return lookup

    @property
    def n_samples(self) -> int:
        """Samples of this table (of the slab, for a slab)."""
        return self.grid.n_samples

    def _positions(self, ids) -> dict[Hashable, np.ndarray]:
        """Position along each grid dim of each (global) sample id."""
        local = np.asarray(ids, dtype=np.int64) - self.first_id
        return dict(zip(self.grid.dims, self.grid.positions(local), strict=True))

    def valid_ids(self) -> np.ndarray:
        """Global ids of the samples to keep: all, less those ``where`` drops and,
        under ``dropna``, those with NaN in a feature or the label (``"target"``: in the
        label)."""
        ids = np.arange(self.n_samples, dtype=np.int64) + self.first_id
        if not self.layout.selects:
            return ids
        pos = self._positions(ids)
        bad = np.zeros(ids.size, dtype=bool)
        if self.layout.dropna is True:
            for f in self.features:
                if f.arr.dtype.kind != "f":
                    continue
                has_nan = window_any(np.isnan(f.arr), f.axes, f.sizes, f.steps)
                bad |= has_nan[tuple(pos[d] for d in f.dims)]
        if self.layout.dropna and self._target is not None:
            bad |= np.isnan(self.y(ids, pos=pos).astype(float, copy=False))
        if self._mask is not None:
            bad |= ~self._masked_in(self.anchor_cells(ids, pos), ids.size)
        return ids[~bad]

    def _masked_in(self, cells: Mapping[Hashable, np.ndarray], n: int) -> np.ndarray:
        """Whether ``where`` keeps each of ``n`` anchors (True past the mask's extent)."""
        dims, mask = self._mask
        index = [cells[d] for d in dims]
        inside = np.ones(n, dtype=bool)
        for axis, idx in enumerate(index):
            inside &= idx < mask.shape[axis]
        kept = np.ones_like(inside)
        kept[inside] = mask[tuple(i[inside] for i in index)] if index else bool(mask)
        return kept

    # -- X -------------------------------------------------------------------------------

    def X(
        self,
        ids,
        pos: dict | None = None,
        out: np.ndarray | None = None,
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """Feature rows for ``ids``: one window per variable, C order over input_dims.

        Rows of ids that cover whole *blocks* (every sample at one position of the
        outermost dim, in order) are copied block by block from strided views;
        increasing ids with gaps (a mask, ``dropna``) from groups of those blocks; the
        rest row by row with fancy indexing. All give the same rows. ``out``, if given,
        is a ``(len(ids), n_features)`` array of the layout's dtype to fill. With the
        layout's ``n_jobs`` > 1, large gathers are split among that many threads
        (whole blocks each where the ids run in blocks): the same rows.

        With ``rows`` (distinct row numbers of ``out``, one per id), the row of
        ``ids[i]`` goes to ``out[rows[i]]`` rather than ``out[i]``: rows gathered one
        by one are put in place as they are copied (no scratch copy), the others
        through a scratch buffer a block or a cache-sized chunk at a time.
        """
        ids = np.asarray(ids, dtype=np.int64)
        shape = (ids.size, self.n_features)
        if out is None:
            if rows is not None:
                raise ValueError("rows needs out, the array they are rows of")
            out = np.empty(shape, dtype=self.layout.dtype)
        elif out.dtype != self.layout.dtype or (
            out.shape != shape if rows is None else out.shape[1:] != shape[1:]
        ):
            raise ValueError(f"out must have shape {shape} and dtype {self.layout.dtype}")
        if rows is not None and np.shape(rows) != ids.shape:
            raise ValueError(f"rows must hold one row of out per id ({ids.size}), not {rows!r}")

        def fill(part: slice) -> None:
            where = None if pos is None else {d: p[part] for d, p in pos.items()}
            if rows is None:
                self._fill(ids[part], where, out[part])
            else:
                self._fill(ids[part], where, out, rows[part])

        parts = self._thread_parts(ids)
        centring = any(f.plan.center for f in self.features)
        with single_threaded_blas() if centring else contextlib.nullcontext():
            if len(parts) == 1:
                fill(slice(None))
                return out
            # each thread fills its own rows; numpy's copies and BLAS release the GIL
            with ThreadPoolExecutor(len(parts), thread_name_prefix="xbatcher-tab") as pool:
                for job in [pool.submit(fill, part) for part in parts]:
                    job.result()
        return out

    THREAD_MIN_BYTES = 1 << 22  # smaller gathers are not split among threads

    def _thread_parts(self, ids: np.ndarray) -> list[slice]:
        """Rows of ``ids`` for each of the layout's ``n_jobs`` threads: one part for a
        small gather; cut at block edges where the ids run in whole blocks, so every
        thread copies whole blocks."""
        n = ids.size
        row_bytes = self.n_features * self.layout.dtype.itemsize
        k = min(self.layout.n_jobs, max(1, n * row_bytes // self.THREAD_MIN_BYTES))
        if k <= 1:
            return [slice(0, n)]
        cuts = [round(i * n / k) for i in range(k + 1)]
        first, last = self._whole_blocks(ids - self.first_id)
        block = self.grid.inner
        if last > first:
            cuts = [
                c if not first < c < last else first + round((c - first) / block) * block
                for c in cuts
            ]
        cuts = sorted(set(cuts))
        return [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]

    def _fill(
        self, ids: np.ndarray, pos: dict | None, out: np.ndarray, rows: np.ndarray | None = None
    ) -> None:
        """Rows of ``ids`` into ``out`` (or ``out[rows]``), on the calling thread (see
        :meth:`X`)."""
        local = ids - self.first_id
        first, last = self._whole_blocks(local)
        block = self.grid.inner
        for row in range(first, last, block):
            part = slice(row, row + block)
            with _staged(out, rows, part) as target:
                self._copy_block(int(local[row]) // block, target, ids[part])
        for lo, hi in ((0, first), (last, ids.size)):
            if hi > lo:
                self._copy_sparse(ids, local, lo, hi, out, pos, rows)

    def _copy_sparse(
        self, ids, local, lo: int, hi: int, out: np.ndarray, pos, rows: np.ndarray | None
    ) -> None:
        """Rows ``[lo, hi)`` of ids that are not whole blocks. Increasing ids (a mask or
        ``dropna`` left gaps) that keep at least a quarter of a block are copied from
        whole-block views (:meth:`_copy_block_subset`); the rest one by one, in
        cache-sized chunks finished as they are copied."""
        block = self.grid.inner
        part_ids = local[lo:hi]
        if block and part_ids.size > 1 and np.all(np.diff(part_ids) > 0):
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
                    self._copy_chunks(ids, lo + sparse_from, lo + a, out, pos, rows)
                    sparse_from = None
                dense = slice(lo + a, lo + b)
                p0 = int(blocks[a])
                with _staged(out, rows, dense) as target:
                    self._copy_block_subset(p0, part_ids[a:b] - p0 * block, target, ids[dense])
            if sparse_from is not None:
                self._copy_chunks(ids, lo + sparse_from, hi, out, pos, rows)
            return
        self._copy_chunks(ids, lo, hi, out, pos, rows)

    CHUNK_BYTES = 1 << 22  # rows gathered one by one: this many bytes of them at a time

    def _copy_chunks(
        self, ids, lo: int, hi: int, out: np.ndarray, pos, rows: np.ndarray | None
    ) -> None:
        """Rows ``[lo, hi)`` one by one (fancy indexing), a cache-sized chunk at a time;
        with ``rows``, put straight in their rows of ``out`` unless they need finishing."""
        chunk = max(1, self.CHUNK_BYTES // max(1, out.shape[1] * out.itemsize))
        for start in range(lo, hi, chunk):
            part = slice(start, min(start + chunk, hi))
            if pos is None:
                where = self._positions(ids[part])
            else:
                where = {d: p[part] for d, p in pos.items()}
            if rows is not None and not self._finishes:
                self._copy_rows(where, out, rows[part])
                continue
            with _staged(out, rows, part) as target:
                self._copy_rows(where, target)
                self._finish(ids[part], target, where)

    @property
    def _finishes(self) -> bool:
        """Whether rows need more than their window cells copied."""
        return any(f.anchor_centred or f.summaries for f in self.features) or bool(
            self.layout.coord_features
        )

    def _finish(
        self, ids: np.ndarray, out: np.ndarray, pos: dict | None, extra: dict | None = None
    ) -> None:
        """The rest of a chunk of rows just copied (still in cache): centring on the
        anchor cell or the window mean, and the columns of :meth:`_extra_columns`
        (``extra``: those of these rows, if already computed)."""
        extra = self._extra_columns(ids, pos) if extra is None else extra
        refs = []  # (centred variable, its reference per row: a copy in X's dtype)
        for f in self.features:
            if f.anchor_centred:
                refs.append((f, out[:, f.plan.cells.start + f.plan.anchor_cell].astype(out.dtype)))
            elif f.plan.center == "mean":  # (a scalar for a variable without sample dims)
                mean = np.broadcast_to(extra[f.plan.reference], out.shape[:1])
                refs.append((f, mean.astype(out.dtype)))
        centre_columns(out, [(f.plan.cells, ref) for f, ref in refs])
        for f, ref in refs:
            out[:, f.plan.reference] = ref
        for column, values in extra.items():
            out[:, column] = values

    def _extra_columns(self, ids: np.ndarray, pos: dict | None) -> dict:
        """Columns computed per sample rather than copied: each variable's summaries
        (and window mean, for centring on it), picked from its per-window summaries,
        and the coordinate features. ``{column: values}``."""
        extra: dict = {}
        if not any(f.summaries for f in self.features) and not self.layout.coord_features:
            return extra
        pos = self._positions(ids) if pos is None else pos
        for f in self.features:
            if not f.summaries:
                continue
            index = tuple(pos[d] for d in f.dims)
            for stat, column in f.plan.stats.items():
                extra[column] = f.summaries[stat][index]
            if f.plan.center == "mean":
                extra[f.plan.reference] = f.summaries["mean"][index]
        column = self._coord_columns.start
        for d, values in self._coord_lookup:
            picked = values[pos[d]]
            for j in range(values.shape[1]):
                extra[column + j] = picked[:, j]
            column += values.shape[1]
        return extra

    def _whole_blocks(self, local: np.ndarray) -> tuple[int, int]:
        """Rows ``[first, last)`` of ``local`` that are whole blocks, in order."""
        block, n = self.grid.inner, local.size
        if not block or n < block or local[-1] - local[0] != n - 1:
            return 0, 0
        if not np.all(np.diff(local) == 1):
            return 0, 0
        first = int(-local[0] % block)
        return first, first + (n - first) // block * block

    def _copy_rows(
        self, pos: Mapping[Hashable, np.ndarray], out: np.ndarray, rows: np.ndarray | None = None
    ) -> None:
        """Rows at ``pos`` (positions per grid dim), one fancy-indexed gather per
        variable, into ``out`` (rows, n_features) or its ``rows``."""
        n = out.shape[0] if rows is None else rows.size
        for f in self.features:
            index = tuple(pos[d] for d in f.dims)
            gather_rows(f.scattered_windows(n), index, out[:, f.columns], rows=rows)

    def _copy_block(self, p0: int, out: np.ndarray, ids: np.ndarray) -> None:
        """Rows of every sample at position ``p0`` of the outermost dim, in id order.

        ``out``: (inner, n_features), ``inner`` being the product of the other dims'
        counts; ``ids``: their ids. Per variable: cut the cells that position's windows
        read along the outermost dim into a contiguous slab (so a window's trailing
        cells become long runs), view all windows of the slab, and copy them in one
        ``copyto``; or, when rows need finishing (centring, summaries, coordinate
        features), a cache-sized group of positions of the first inner dim at a time,
        each group finished while in cache.
        """
        views = self._block_views(p0)
        if not self._finishes:
            for f, view in zip(self.features, views, strict=True):
                np.copyto(self._block_target(f, out, view), view)
            return
        extra = self._extra_columns(ids, None)  # for the whole block, vectorized
        for lo, hi, part in self._groups(out.shape[1] * out.itemsize):
            rows = out[lo:hi]
            for f, view in zip(self.features, views, strict=True):
                np.copyto(self._block_target(f, rows, view[part]), view[part])
            self._finish(ids[lo:hi], rows, None, {c: v[lo:hi] for c, v in extra.items()})

    def _copy_block_subset(
        self, p0: int, inner: np.ndarray, out: np.ndarray, ids: np.ndarray
    ) -> None:
        """Rows of some samples at position ``p0`` of the outermost dim: ``inner`` are
        their (increasing) positions within the block, taken a cache-sized group at a
        time. Where every variable's windows are read in long runs (the copy-friendly
        views of windows of 5 cells or more), the kept windows are gathered straight
        into ``out`` by fancy indexing; otherwise the group's windows are copied whole
        into a scratch buffer and the kept rows moved to ``out``. Groups without a kept
        sample are skipped either way."""
        views = self._block_views(p0)
        direct = all(  # bytes per contiguous run of a window's cells (its last axes)
            f.sizes
            and contiguous_run(view, range(view.ndim - len(f.sizes), view.ndim), f.sizes)
            * view.itemsize
            >= self.DIRECT_RUN_BYTES
            for f, view in zip(self.features, views, strict=True)
        )
        row_bytes = out.shape[1] * out.itemsize
        scratch = None
        extra = self._extra_columns(ids, None)
        for lo, hi, part in self._groups(row_bytes):
            a, b = np.searchsorted(inner, [lo, hi])
            if a == b:
                continue  # no kept sample in this group: nothing is copied
            kept = out[a:b]
            if direct:
                for f, view in zip(self.features, views, strict=True):
                    windows = view[part]
                    at = np.unravel_index(inner[a:b] - lo, windows.shape[: -len(f.sizes)])
                    kept[:, f.columns] = windows[at].reshape(b - a, -1)
            else:
                if scratch is None or scratch.shape[0] < hi - lo:
                    scratch = np.empty((hi - lo, out.shape[1]), dtype=out.dtype)
                rows = scratch[: hi - lo]
                for f, view in zip(self.features, views, strict=True):
                    np.copyto(self._block_target(f, rows, view[part]), view[part])
                np.take(rows, inner[a:b] - lo, axis=0, out=kept, mode="clip")  # no buffer
            self._finish(ids[a:b], kept, None, {c: v[a:b] for c, v in extra.items()})

    DIRECT_RUN_BYTES = 64  # windows read in runs this long are gathered directly

    GROUP_BYTES = 1 << 21

    def _groups(self, row_bytes: int):
        """``(first row, stop row, view index)`` of cache-sized groups of a block: runs
        of positions along the first inner dim or, when one such position is larger
        than the budget, runs along the second inner dim at one position of the first."""
        inner_dims = self.grid.dims[1:]
        if not inner_dims:
            yield 0, self.grid.inner, ()
            return
        n0 = self.grid.counts[1]
        rows_per = self.grid.inner // max(1, n0)
        budget = self.GROUP_BYTES
        if rows_per * row_bytes <= budget or len(inner_dims) < 2:
            group = max(1, budget // max(1, rows_per * row_bytes))
            for i in range(0, n0, group):
                yield i * rows_per, min(i + group, n0) * rows_per, (slice(i, i + group),)
            return
        n1 = self.grid.counts[2]
        rows_per1 = rows_per // max(1, n1)
        group = max(1, budget // max(1, rows_per1 * row_bytes))
        for i in range(n0):
            for j in range(0, n1, group):
                stop = min(j + group, n1)
                yield (
                    i * rows_per + j * rows_per1,
                    i * rows_per + stop * rows_per1,
                    (slice(i, i + 1), slice(j, stop)),
                )

    def _block_target(self, f: FeatureArray, rows: np.ndarray, view: np.ndarray) -> np.ndarray:
        """Variable ``f``'s cells of ``rows`` shaped like ``view`` (a view of ``rows``)."""
        target = rows[:, f.columns].reshape(view.shape)
        if not np.shares_memory(target, rows):  # splitting axes is always a view
            raise AssertionError("block target is not a view of the output")
        return target

    def _block_views(self, p0: int) -> list[np.ndarray]:
        """Per variable, every window of block ``p0`` shaped ``(grid.counts[1:]) +
        (window cells)`` (broadcast along dims the variable lacks)."""
        grid, window = self.grid, self.layout.window
        d0, inner_dims = grid.dims[0], grid.dims[1:]
        views = []
        for f in self.features:
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

    # -- y and coordinates ---------------------------------------------------------------

    def anchor_cells(self, ids, pos: dict | None = None) -> dict[Hashable, np.ndarray]:
        """Cell of each sample's anchor along every dim, in the whole data (past its
        end for forecasts)."""
        pos = self._positions(ids) if pos is None else pos
        return anchor_cells(self.grid, [pos[d] for d in self.grid.dims], self.offset)

    def y(self, ids, pos: dict | None = None) -> np.ndarray:
        """Label of each sample: the target variable at the sample's anchor."""
        if self._target is None:
            if self.layout.target is None:
                raise ValueError("the tabularizer has no target: pass target=Target(...)")
            raise ValueError(
                f"the data lacks the target variable {self.layout.target!r}: no labels"
            )
        cells = self.anchor_cells(ids, pos)
        d0 = self.grid.dims[0]
        cells[d0] = cells[d0] - self.start  # the target's cells in this slab
        dims, values = self._target
        labels = values[tuple(cells[d] for d in dims)]
        # a target without dims (or none varying between samples) still gives one per row
        return np.broadcast_to(labels, (int(np.size(ids)),)).copy() if labels.ndim == 0 else labels

    def coords(self, ids, pos: dict | None = None) -> pd.DataFrame:
        """One row per sample: the anchor's coordinate label along every dim."""
        return anchor_frame(self._coords, self.anchor_cells(ids, pos), ids)

    def rows(self, ids) -> Tabular:
        """X, y (None without a target) and the coordinate frame of ``ids``."""
        pos = self._positions(ids)
        y = self.y(ids, pos=pos) if self._target is not None else None
        return Tabular(self.X(ids, pos=pos), y, self.coords(ids, pos=pos))
