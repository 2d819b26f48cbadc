"""``BatchGenerator``: xbatcher 0.4.0's batches, without per-window xarray work."""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ._core.checks import check_bool, check_int
from ._core.data import computing_in, is_lazy
from ._core.window import check_dims_mapping, make_window_spec
from ._engine.kernels import window_view
from ._xbatcher.assemble import Entry, assemble
from ._xbatcher.plan import Axis, BatchPlan, xbatcher_plans

__all__ = ["BatchGenerator"]

_PLACEHOLDER = "__xbatcher_tab_values__"
_INPUT_BATCH = "input_batch"
_SAMPLE = "sample"
_SUFFIX = "_input"


class BatchGenerator:
    """Iterate over an xarray object in batches of windows, as xbatcher 0.4.0 does.

    A drop-in replacement for ``xbatcher.BatchGenerator``: the same arguments give the
    same batches (count, order, dims, coordinates and values), built from strided
    views of each batch's slab with a single copy instead of one xarray operation per
    window.

    Parameters
    ----------
    ds : xarray.Dataset or xarray.DataArray
        The data, numpy- or dask-backed.
    input_dims : dict
        Window size per dim, e.g. ``{"lat": 9, "lon": 9, "time": 10}``. Every other dim
        is a sample dim; when a batch has two or more of those they are stacked into a
        ``sample`` MultiIndex.
    input_overlap : dict, optional
        Overlap per input dim (``0 <= overlap < size``); the stride is
        ``size - overlap``.
    batch_dims : dict, optional
        Batch size per dim. Batch dims that are not input dims are cut into
        non-overlapping slices of that size. With ``concat_input_dims`` a batch dim
        that is also an input dim groups ``ceil(batch_size / stride)`` consecutive
        windows per batch (by window start, so windows may reach past the batch edge).
    concat_input_dims : bool, default False
        If True, the windows of a batch are concatenated along ``input_batch`` and
        window dims are renamed ``{dim}_input``; each input dim's coordinate becomes a
        (possibly 2-D) coordinate over ``{dim}_input``. If False, every window is a
        batch of its own.
    preload_batch : bool, default True
        Load each batch's source slab into memory (computing dask arrays) before
        building it. If False, dask-backed data gives lazy dask-backed batches.

    Notes
    -----
    Windows that do not fit at the end of a dim are dropped, as in xbatcher.
    Differences from xbatcher 0.4.0, all where xbatcher misbehaves:

    * With ``concat_input_dims=True``, a batch dim shorter than its input dim makes
      xbatcher yield empty batches that fail with "min() arg is an empty sequence";
      here empty batches are skipped and ``len()`` counts only real batches.
    * With ``concat_input_dims=True``, xbatcher ignores ``preload_batch`` (batches stay
      dask-backed); here ``preload_batch=True`` gives numpy-backed batches.
    * With ``concat_input_dims=True`` on a DataArray, xbatcher keeps the window
      coordinate as an index named ``{dim}_input`` and outer-joins the windows on it,
      padding with NaN; here a DataArray gives what the same data as a Dataset gives.
    * ``input_overlap`` on a dim that is not an input dim, and batch sizes larger
      than the data, raise a ``ValueError`` instead of being used or giving no batch.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> da = xr.DataArray(np.arange(24.0).reshape(6, 4), dims=("time", "x"), name="v")
    >>> bgen = BatchGenerator(da, input_dims={"time": 3}, input_overlap={"time": 2})
    >>> len(bgen)
    4
    >>> bgen[1].sizes
    Frozen({'time': 3, 'x': 4})
    >>> bgen = BatchGenerator(
    ...     da, input_dims={"time": 3}, input_overlap={"time": 2}, concat_input_dims=True
    ... )
    >>> bgen[0].dims
    ('sample', 'time_input')
    """

    def __init__(
        self,
        ds: xr.Dataset | xr.DataArray,
        input_dims: Mapping[Hashable, int],
        input_overlap: Mapping[Hashable, int] | None = None,
        batch_dims: Mapping[Hashable, int] | None = None,
        concat_input_dims: bool = False,
        preload_batch: bool = True,
    ) -> None:
        if not isinstance(ds, xr.Dataset | xr.DataArray):
            raise TypeError(
                f"ds must be an xarray.Dataset or xarray.DataArray, got {type(ds).__name__}"
            )
        sizes = dict(ds.sizes)
        spec = make_window_spec(input_dims, input_overlap, sizes)
        batch = check_dims_mapping("batch_dims", batch_dims, sizes)
        self.ds = ds
        self.input_dims = dict(input_dims)
        self.input_overlap = dict(input_overlap or {})
        self.batch_dims = dict(batch_dims or {})
        self.concat_input_dims = check_bool("concat_input_dims", concat_input_dims)
        self.preload_batch = check_bool("preload_batch", preload_batch)
        duplicated = {d: n for d, n in batch.items() if d in spec.dims}
        if duplicated and not self.concat_input_dims:
            warnings.warn(
                "The following dimensions were included in both input_dims and batch_dims. "
                "Since concat_input_dims is False, these dimensions will not impact batch "
                f"generation: {duplicated}",
                UserWarning,
                stacklevel=2,
            )
        self._coord_cache: dict = {}
        variables = ds.variables.values() if isinstance(ds, xr.Dataset) else [ds.variable]
        self._lazy = is_lazy(variables)
        self._plans: list[BatchPlan] = xbatcher_plans(sizes, spec, batch, self.concat_input_dims)
        self._owner = os.getpid()  # a DataLoader's worker is another process

    def __len__(self) -> int:
        return len(self._plans)

    def __iter__(self) -> Iterator[xr.Dataset | xr.DataArray]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, idx: int) -> xr.Dataset | xr.DataArray:
        several = isinstance(idx, Iterable | np.ndarray) and not isinstance(idx, str | bytes)
        if several and not isinstance(idx, numbers.Integral):
            raise NotImplementedError(  # xbatcher's error for a list of indices
                f"BatchGenerator takes one batch index (an integer), got {type(idx).__name__}"
            )
        i = check_int("batch index", idx)
        n = len(self)
        if not -n <= i < n:  # xbatcher's wording first: code may match it
            raise IndexError(f"list index out of range: batch index {i} of {n} batches")
        plan = self._plans[i % n]
        with computing_in(self._owner):  # preloaded in a loader's worker: synchronously
            if isinstance(self.ds, xr.DataArray):
                da = self.ds
                out = self._build(da.to_dataset(name=_PLACEHOLDER), plan, list(da.dims))
                result = out[_PLACEHOLDER]
                result.name = da.name
                return result
            return self._build(self.ds, plan, None)

    def _build(self, ds: xr.Dataset, plan: BatchPlan, dims_order: list | None) -> xr.Dataset:
        """``dims_order``: the original object's dims (a DataArray's), which decide what
        a single-window batch stacks; a concatenated batch's order follows its variables."""
        if self.concat_input_dims:
            return self._build_concat(ds, plan)
        return self._build_window(ds, plan, dims_order)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_dims={self.input_dims}, "
            f"input_overlap={self.input_overlap}, batch_dims={self.batch_dims}, "
            f"concat_input_dims={self.concat_input_dims}, "
            f"preload_batch={self.preload_batch}, n_batches={len(self)})"
        )

    # -- building one batch --------------------------------------------------------

    def _load(self, slab: xr.Dataset) -> xr.Dataset:
        return slab.compute() if self.preload_batch and self._lazy else slab

    def _build_window(self, ds: xr.Dataset, plan: BatchPlan, dims_order: list | None) -> xr.Dataset:
        """One window per batch: the window itself, its non-input dims stacked into
        ``sample`` (views where numpy allows, as xarray's stack gives)."""
        selector = plan.selector()
        slab = self._load(ds.isel(selector))
        order = dims_order if dims_order is not None else list(slab.sizes)
        if sum(d not in self.input_dims for d in order) < 2:
            return slab  # nothing to stack: xbatcher returns the window as it is
        entries = [
            _plain_entry(name, var, name in slab.coords, slab.xindexes.get(name))
            for name, var in slab.variables.items()
        ]
        return assemble(
            entries,
            order,
            list(self.input_dims),
            {d: (d,) for d in order},
            dict(slab.sizes),
            slab.attrs,
            cache=self._coord_cache,
            bounds=_bounds(selector),
        )

    def _build_concat(self, ds: xr.Dataset, plan: BatchPlan) -> xr.Dataset:
        """Many windows per batch: gather them from strided views of the batch's slab
        in one copy, without building an xarray object per window."""
        selector = plan.selector()
        slab = self._load(ds.isel(selector))
        labels = _ConcatLabels.of(plan, list(self.input_dims), slab.sizes)
        entries = [labels.data_entry(name, var) for name, var in slab.data_vars.items()]
        entries += [labels.coord_entry(slab, name) for name in labels.coord_order(slab)]
        order: list[Hashable] = []  # the batch's dims, first seen first
        for e in entries:
            order += [d for d in e.dims if d not in order]
        groups = {d: (d,) for d in order} | {_INPUT_BATCH: labels.input_batch}
        return assemble(
            entries,
            order,
            [labels.renamed[d] for d in labels.inputs],
            groups,
            labels.sizes,
            slab.attrs,
            cache=self._coord_cache,
            bounds=_bounds(selector),
        )


@dataclass(frozen=True)
class _ConcatLabels:
    """The labels of a concatenated batch, before ``input_batch`` is materialised.

    Per input dim ``d`` a batch has two virtual labels: ``("__pos__", d)``, the
    positions of its windows along ``d`` (``len(windows[d])`` of them), and
    ``"{d}_input"``, the cells of one window (its size). ``input_batch`` merges the
    position labels of every input dim in C order; ``sizes`` gives every label's length
    (the slab's dims included).
    """

    inputs: list[Hashable]
    windows: dict[Hashable, tuple[Axis, range]]
    position: dict[Hashable, tuple]
    renamed: dict[Hashable, str]
    sizes: dict[Hashable, int]

    @classmethod
    def of(
        cls, plan: BatchPlan, inputs: list[Hashable], slab_sizes: Mapping[Hashable, int]
    ) -> _ConcatLabels:
        windows = {ax.dim: (ax, r) for ax, r in zip(plan.axes, plan.windows, strict=True)}
        position = {d: ("__pos__", d) for d in inputs}
        renamed = {d: f"{d}{_SUFFIX}" for d in inputs}
        sizes: dict[Hashable, int] = dict(slab_sizes)
        for d in inputs:
            sizes[position[d]] = len(windows[d][1])
            sizes[renamed[d]] = windows[d][0].size
        return cls(inputs, windows, position, renamed, sizes)

    @property
    def input_batch(self) -> tuple:
        return tuple(self.position[d] for d in self.inputs)

    def rename(self, dims) -> tuple:
        """Batch dims of a variable's dims: input dims become ``{dim}_input``."""
        return tuple(self.renamed.get(d, d) for d in dims)

    def windowed(self, var: xr.Variable) -> tuple[tuple, tuple]:
        """How to view the windows of ``var``, and the labels of that view.

        Returns ``(axes, sizes, strides)`` for :func:`window_view` and the view's
        labels: ``var``'s dims with each input dim as its window positions, then the
        window cells of each input dim ``var`` has (``{dim}_input``).
        """
        win_dims = [d for d in self.inputs if d in var.dims]
        win = (
            [var.dims.index(d) for d in win_dims],
            [self.windows[d][0].size for d in win_dims],
            [self.windows[d][0].stride for d in win_dims],
        )
        vdims = tuple(self.position.get(d, d) for d in var.dims)
        return win, vdims + tuple(self.renamed[d] for d in win_dims)

    def data_entry(self, name: Hashable, var: xr.Variable) -> Entry:
        """A data variable: its windows along ``input_batch`` (itself if not windowed)."""
        win, vdims = self.windowed(var)
        dims = (_INPUT_BATCH, *self.rename(var.dims))
        return Entry(name, dims, vdims, var.data, var.attrs, win if win[0] else None)

    def coord_order(self, slab: xr.Dataset) -> list[Hashable]:
        """Coordinates in xbatcher's order: index coordinates of input dims last, in
        input_dims order."""

        def is_input_index(n):
            return n in self.renamed and slab[n].dims == (n,)

        names = [n for n in slab.coords if not is_input_index(n)]
        return names + [d for d in self.inputs if d in slab.coords and is_input_index(d)]

    def coord_entry(self, slab: xr.Dataset, name: Hashable) -> Entry:
        """A coordinate: as it is when it has no input dim; the same for every window
        (then kept once, as ``concat`` does); else windowed like a data variable."""
        var = slab.variables[name]
        if not any(d in self.renamed for d in var.dims):
            return _plain_entry(name, var, True, slab.xindexes.get(name))
        values = np.asarray(var.values)
        win, vdims = self.windowed(var)
        view = window_view(values, *win)
        pos_axes = [i for i, v in enumerate(vdims) if v in self.input_batch]
        if _all_windows_equal(view, pos_axes):
            first = view[tuple(0 if i in pos_axes else slice(None) for i in range(view.ndim))]
            kept = tuple(v for v in vdims if v not in self.input_batch)
            return Entry(name, self.rename(var.dims), kept, first, var.attrs, is_coord=True)
        dims = (_INPUT_BATCH, *self.rename(var.dims))
        return Entry(name, dims, vdims, values, var.attrs, win, is_coord=True)


def _bounds(selector: Mapping[Hashable, slice]) -> dict[Hashable, tuple[int, int]]:
    return {d: (s.start, s.stop) for d, s in selector.items()}


def _plain_entry(name: Hashable, var: xr.Variable, is_coord: bool, index) -> Entry:
    return Entry(
        name, var.dims, var.dims, var.data, var.attrs, is_coord=is_coord, index=index, variable=var
    )


def _all_windows_equal(view: np.ndarray, pos_axes: list[int]) -> bool:
    """Whether every window equals the first one (NaN equal to NaN), as concat checks."""
    if not pos_axes or all(view.shape[i] <= 1 for i in pos_axes):
        return True
    first = view[tuple(slice(0, 1) if i in pos_axes else slice(None) for i in range(view.ndim))]
    same = view == first
    if view.dtype.kind in "fcmMO":
        same = same | (pd.isnull(view) & pd.isnull(first))
    return bool(np.all(same))
