"""Feature arrays: each feature variable laid out once for gathering its windows.

A :class:`FeatureArray` holds one variable in the layout's dtype, transposed so that
its windowed dims come last (the last one contiguous), standardized when the layout
scales, with the margins a ``boundary`` adds along some dims built into that same copy
(wrapped from the other side of the grid, or NaN). It exposes every window as a view,
its per-window summaries, and, for windows taken one by one in any order, a copy
expanded so they are read in longer runs.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from .._core.columns import VariableColumns
from .._core.window import WindowSpec
from .._fit.layout import Layout
from .._fit.outliers import apply_bounds, flagged
from .kernels import (
    contiguous_run,
    expand_last,
    expanded_windows,
    window_summaries,
    window_view,
)
from .runtime import CopyBudget

__all__ = ["Extent", "FeatureArray", "check_fits", "table_extents", "with_margins"]


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


def with_margins(values: np.ndarray, extents: Sequence[tuple[int, Extent]], dtype) -> np.ndarray:
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
    :func:`~xbatcher_tab._engine.kernels.window_view`; ``columns`` are its features in X.
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
        """The variable laid out for gathering; with an outlier rule, its outliers made
        NaN or clipped (or, to drop their samples, marked in ``flagged``) and with
        scaling, its values standardized, here, once per grid cell, rather than once per
        window. ``extents``: along these dims, the cells to hold and the margins to add
        (see :class:`Extent`)."""
        wdims = plan.window_dims
        dims = [d for d in layout.dims if d in var.dims and d not in wdims] + list(wdims)
        values = var.transpose(*dims).values
        extents = {d: e for d, e in (extents or {}).items() if d in dims}
        if extents:
            values = values[tuple(extents[d].cells if d in extents else slice(None) for d in dims)]
        marks = None
        bounds = layout.outliers.get(plan.variable)
        if bounds is not None:  # on the physical values, before any scaling
            if layout.outlier_action == "drop":
                marks = flagged(values, bounds).astype(np.float32)
            values = apply_bounds(values, bounds, layout.outlier_action)
        if layout.scaling is not None:
            mean, std = layout.scaling[plan.variable]
            values = (np.asarray(values, dtype=np.float64) - mean) / std
        check_fits(values, layout.dtype, plan.variable)
        if any(e.before or e.after for e in extents.values()):
            axes = [(dims.index(d), e) for d, e in extents.items()]
            arr = with_margins(values, axes, layout.dtype)
            if marks is not None:  # margins wrap like the cells, or are no outlier
                marks = with_margins(marks, axes, np.float32)
        else:
            arr = np.ascontiguousarray(values, dtype=layout.dtype)
        return cls(
            flagged=None if marks is None else marks > 0,
            dims=tuple(dims),
            arr=arr,
            axes=tuple(dims.index(d) for d in wdims),
            sizes=tuple(layout.window.size(d) for d in wdims),
            steps=tuple(layout.window.stride(d) for d in wdims),
            columns=plan.cells,
            plan=plan,
        )

    summaries: dict | None = None  # per window position: NaN-aware mean, std, ...
    flagged: np.ndarray | None = None  # outlier cells whose samples are dropped

    def summarize(self) -> None:
        """The summaries its columns need (stats; the mean for centering on it), once
        for every window of the array."""
        needed = list(self.plan.stats)
        if self.plan.center == "mean" and "mean" not in needed:
            needed.append("mean")
        if needed:
            self.summaries = window_summaries(self.arr, self.axes, self.sizes, self.steps, needed)

    def windows(self) -> np.ndarray:
        """Every window: shape (positions along each of ``dims``) + window ``sizes``."""
        return window_view(self.arr, self.axes, self.sizes, self.steps)

    # expand_last's copy, once built, and its windows; bytes of windows gathered
    # one by one so far
    expanded: np.ndarray | None = field(default=None, repr=False, compare=False)
    expanded_copy: np.ndarray | None = field(default=None, repr=False, compare=False)
    scattered_bytes: int = field(default=0, repr=False, compare=False)

    def scattered_windows(self, n: int, budget: CopyBudget) -> np.ndarray:
        """Every window (as :meth:`windows`), for ``n`` windows taken one by one in any
        order (shuffled ids, scattered rows). Windows read in short runs are read from
        an :func:`~xbatcher_tab._engine.kernels.expanded_view` instead, once the windows
        gathered this way add up to ``budget.payback`` times the expansion's size (so
        it pays for itself) and when it holds at most ``budget.expanded_max_bytes``."""
        return self.windows() if self.long_runs(n, budget) is None else self.expanded

    def long_runs(self, n: int, budget: CopyBudget) -> np.ndarray | None:
        """The array expanded along its last window dim
        (:func:`~xbatcher_tab._engine.kernels.expand_last`), where a window is read in
        runs of its last two dims' cells, for ``n`` more windows to gather: built once
        it pays for itself (see :meth:`scattered_windows`), else None."""
        if self.expanded_copy is not None:
            return self.expanded_copy
        self.scattered_bytes += n * self.arr.itemsize * int(np.prod(self.sizes))
        cost = self.arr.nbytes * self.sizes[-1] // self.steps[-1] if self.sizes else 0
        worth = (
            len(self.sizes) >= 2
            and contiguous_run(self.arr, self.axes, self.sizes) * self.arr.itemsize
            < budget.short_run_bytes
            and cost <= budget.expanded_max_bytes
            and self.scattered_bytes >= budget.payback * cost
        )
        if not worth:
            return None
        with _EXPANDING:  # one build, whichever thread asks first
            if self.expanded_copy is None:
                copy = expand_last(self.arr, self.axes, self.sizes, self.steps)
                if copy is None:
                    return None
                self.expanded = expanded_windows(
                    copy, self.arr.ndim, self.axes, self.sizes, self.steps
                )
                self.expanded_copy = copy
        return self.expanded_copy


_EXPANDING = threading.Lock()


def check_fits(values: np.ndarray, dtype: np.dtype, variable: Hashable) -> None:
    """Raise if ``values`` change when cast to the rows' ``dtype``: an integer dtype
    takes integers within its range (no NaN, no fraction), float16 values up to 65504."""
    dtype = np.dtype(dtype)
    values = np.asarray(values)
    if dtype.kind == "f" and dtype.itemsize >= 4 or not values.size:
        return
    if dtype.kind == "f":  # float16: the rest fits, at its precision
        big = np.nanmax(np.abs(values)) if values.dtype.kind == "f" else np.abs(values).max()
        if big > np.finfo(dtype).max:
            raise ValueError(
                f"variable {variable!r} holds {big:g}, beyond dtype {dtype}'s largest value "
                f"({np.finfo(dtype).max:g}); use dtype='float32'"
            )
        return
    info = np.iinfo(dtype)
    if values.dtype.kind == "f":
        if np.isnan(values).any():
            raise ValueError(
                f"variable {variable!r} holds NaN, which dtype {dtype} cannot hold; use a "
                "float dtype such as 'float32'"
            )
        if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
            raise ValueError(
                f"variable {variable!r} holds values that are not integers (e.g. "
                f"{values[values != np.round(values)].flat[0]:g}), which dtype {dtype} would "
                "change; use a float dtype such as 'float32'"
            )
    lo, hi = values.min(), values.max()
    if lo < info.min or hi > info.max:
        raise ValueError(
            f"variable {variable!r} holds values from {lo:g} to {hi:g}, outside dtype "
            f"{dtype}'s range {info.min}..{info.max}; use a wider dtype such as 'float32'"
        )


def table_extents(
    window: WindowSpec,
    dims: Sequence[Hashable],
    positions: range,
    start: int,
    held: int,
    sizes: Mapping[Hashable, int],
) -> dict[Hashable, Extent]:
    """What a table's feature arrays hold: along the outermost of ``dims``, the cells
    the windows of ``positions`` read (with NaN margins where they reach past the
    data's edges), unless it is periodic; along every dim with a boundary, all its
    cells with their margins. The table holds ``held`` cells of the outermost dim from
    cell ``start`` of the whole data, whose dim lengths are ``sizes``."""
    d0 = dims[0]
    extents = {}
    for d in dims:
        kind = window.boundary(d)
        if d == d0 and kind != "periodic":
            extents[d0] = _outer_extent(window, d0, positions, start, held, sizes[d0])
        elif kind is not None:  # all its cells (a periodic margin wraps from them)
            if d == d0 and (start, held) != (0, sizes[d0]):
                raise ValueError(f"a periodic {d0!r} is read whole, not in slabs")
            extents[d] = Extent(slice(None), *window.margins(d), kind)
    return extents


def _outer_extent(
    window: WindowSpec, d0: Hashable, positions: range, start: int, held: int, n: int
) -> Extent:
    """The cells of the outermost dim ``d0`` (``n`` long) that the windows of
    ``positions`` read, with NaN margins where they reach past the data's edges."""
    first = window.first_cell(d0, positions.start)
    last = window.first_cell(d0, positions.stop - 1) + window.size(d0)
    if not len(positions):
        first = last = max(0, first)
    lo, hi = max(first, 0), min(last, n)
    if lo < start or hi > start + held:
        raise ValueError(
            f"the slab holds cells {start}..{start + held} of {d0!r} but its windows read "
            f"{lo}..{hi}"
        )
    return Extent(slice(lo - start, hi - start), lo - first, last - hi, window.boundary(d0))
