"""The xarray ↔ numpy bridge of the tabularizer: layout, prepared arrays, row gathering.

:class:`Layout` is what ``fit`` learns (variables, their dims, window, label, dtype) and
:class:`Table` is data prepared under a layout: each feature variable transposed once
so its last window dim is contiguous, with a strided view of all its windows. Rows of
X, y and the coordinate frame are then gathered for any list of sample ids with the
same kernel, whether the ids cover the whole table, a batch, or a shuffled subset.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ._gather import gather_rows, window_any, window_view
from ._index import SampleGrid, sample_grid
from ._spec import WindowSpec, check_lead, make_window_spec

__all__ = ["Layout", "Table", "as_dataset", "learn_layout"]

DEFAULT_NAME = "values"


def as_dataset(data: object, argname: str = "X") -> xr.Dataset:
    """The data as a Dataset (a DataArray becomes its only variable)."""
    if isinstance(data, xr.Dataset):
        return data
    if isinstance(data, xr.DataArray):
        return data.to_dataset(name=data.name if data.name is not None else DEFAULT_NAME)
    raise TypeError(
        f"{argname} must be an xarray.Dataset or xarray.DataArray, got {type(data).__name__}; "
        "the tabularizer cuts windows from labelled grids, not from 2-D arrays"
    )


@dataclass(frozen=True)
class Layout:
    """What ``fit`` learns: everything needed to cut the same table from other data."""

    dims: tuple[Hashable, ...]
    window: WindowSpec
    lead: dict
    variables: tuple[Hashable, ...]
    var_dims: dict
    target: Hashable | None
    target_dims: tuple[Hashable, ...] | None
    dtype: np.dtype

    @property
    def needed(self) -> list:
        """The variables a table reads: the features, then the target if not one."""
        extra = [self.target] if self.target is not None else []
        return list(dict.fromkeys([*self.variables, *extra]))

    def feature_names(self) -> list[str]:
        """``var(dim±offset,...)`` per feature, offsets from the sample's anchor."""
        sizes = self.window.as_dict
        anchor = {d: (n - 1 + self.lead[d] if d in self.lead else n // 2) for d, n in sizes.items()}
        names = []
        for v in self.variables:
            wdims = [d for d in self.window.dims if d in self.var_dims[v]]
            cells = np.ndindex(*(sizes[d] for d in wdims))
            for cell in cells:
                parts = ",".join(f"{d}{c - anchor[d]:+d}" for d, c in zip(wdims, cell, strict=True))
                names.append(f"{v}({parts})" if parts else str(v))
        return names


def learn_layout(
    ds: xr.Dataset,
    input_dims: object,
    input_overlap: object,
    variables: Sequence[Hashable] | None,
    target: object,
    dtype: object,
) -> Layout:
    """Validate the tabularizer's parameters against ``ds`` and learn the layout."""
    from .tabularizer import Target  # the public class lives with the estimator

    sizes = dict(ds.sizes)
    window = make_window_spec(input_dims, input_overlap, sizes)
    names = list(ds.data_vars) if variables is None else _check_variables(variables, ds)
    if not names:
        raise ValueError("the data has no data variables to use as features")
    try:
        np_dtype = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"dtype must be a numpy dtype such as 'float32', got {dtype!r}") from err
    if np_dtype.kind not in "fiu":
        raise ValueError(f"dtype must be a numeric dtype such as 'float32', got {np_dtype}")
    lead: dict = {}
    target_name = target_dims = None
    if target is not None:
        if not isinstance(target, Target):
            raise TypeError(
                f"target must be an xbatcher_tab.Target or None, got {type(target).__name__}"
            )
        target_name = target.variable
        if target_name not in ds.data_vars:
            raise ValueError(
                f"target variable {target_name!r} is not a data variable; "
                f"valid variables are {list(ds.data_vars)}"
            )
        lead = check_lead(target.lead, sizes)
        target_dims = tuple(ds[target_name].dims)
    for d, n in window.as_dict.items():
        if n + lead.get(d, 0) > sizes[d]:
            raise ValueError(
                f"input_dims[{d!r}]={n} plus the target's lead of {lead[d]} is larger than "
                f"the data's {d!r} dimension (length {sizes[d]}): no sample has its label "
                "inside the data"
            )
    for d, ahead in lead.items():
        if d not in window.as_dict and ahead >= sizes[d]:
            raise ValueError(
                f"the target's lead[{d!r}]={ahead} leaves no sample along {d!r} (length {sizes[d]})"
            )
    return Layout(
        dims=sample_order(ds, names, target_name),
        window=window,
        lead=lead,
        variables=tuple(names),
        var_dims={v: tuple(ds[v].dims) for v in names},
        target=target_name,
        target_dims=target_dims,
        dtype=np_dtype,
    )


def sample_order(ds: xr.Dataset, variables: Sequence, target: Hashable | None) -> tuple:
    """The dims samples are enumerated over, outermost first: the first feature
    variable's dims in its own order, then new dims of the other variables and of the
    target, then the data's other dims. Variables keep their dim order wherever the data
    comes from, unlike a Dataset's dims (a zarr store may list them in any order)."""
    order: list = []
    for v in [*variables, *([target] if target is not None else [])]:
        order += [d for d in ds[v].dims if d not in order]
    order += [d for d in ds.sizes if d not in order]
    return tuple(order)


def _check_variables(variables: object, ds: xr.Dataset) -> list:
    if isinstance(variables, str) or not isinstance(variables, Sequence):
        raise TypeError(f"variables must be a list of variable names or None, got {variables!r}")
    names = list(variables)
    unknown = [v for v in names if v not in ds.data_vars]
    if unknown:
        raise ValueError(
            f"variables names {unknown}, which the data does not have as data variables; "
            f"valid variables are {list(ds.data_vars)}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"variables must not repeat a name, got {names}")
    return names


def select_needed(layout: Layout, ds: xr.Dataset) -> xr.Dataset:
    """``ds`` reduced to the variables the layout reads (those it has: the layout
    check names the missing ones)."""
    present = [v for v in layout.needed if v in ds.data_vars]
    return ds[present] if present else ds


def check_layout(layout: Layout, ds: xr.Dataset) -> None:
    """Raise a clear error if ``ds`` does not have the layout learnt at fit."""
    if set(ds.dims) != set(layout.dims):
        raise ValueError(
            f"the data has dims {sorted(map(str, ds.dims))} but the tabularizer was fitted "
            f"on dims {sorted(map(str, layout.dims))}; transform needs data with the same "
            "dims (sizes may differ)"
        )
    missing = [v for v in layout.needed if v not in ds.data_vars]
    if missing:
        raise ValueError(
            f"the data lacks variables {missing} that the tabularizer was fitted with; "
            f"it has {list(ds.data_vars)}"
        )
    for v in layout.variables:
        if set(ds[v].dims) != set(layout.var_dims[v]):
            raise ValueError(
                f"variable {v!r} has dims {ds[v].dims} but had {layout.var_dims[v]} at fit"
            )
    if layout.target is not None and set(ds[layout.target].dims) != set(layout.target_dims):
        raise ValueError(
            f"target variable {layout.target!r} has dims {ds[layout.target].dims} "
            f"but had {layout.target_dims} at fit"
        )
    for d, n in layout.window.as_dict.items():
        need = n + layout.lead.get(d, 0)
        if ds.sizes[d] < need:
            raise ValueError(
                f"the data's {d!r} dimension (length {ds.sizes[d]}) is shorter than the "
                f"window of {n}"
                + (f" plus the lead of {layout.lead[d]}" if d in layout.lead else "")
            )


@dataclass
class _Feature:
    """One feature variable: its values transposed to ``order`` (sample dims in data
    order, then its window dims in input_dims order, the last one contiguous)."""

    order: tuple
    arr: np.ndarray
    axes: tuple[int, ...]
    sizes: tuple[int, ...]
    steps: tuple[int, ...]
    offset: int

    @property
    def cells(self) -> int:
        return int(np.prod(self.sizes, dtype=np.int64))

    @property
    def columns(self) -> slice:
        return slice(self.offset, self.offset + self.cells)

    @property
    def view(self) -> np.ndarray:
        return window_view(self.arr, self.axes, self.sizes, self.steps)

    def _run(self, arr: np.ndarray) -> int:
        """Cells per contiguous run of a window of ``arr`` (trailing cells coalesce)."""
        run = self.sizes[-1] if arr.strides[self.axes[-1]] == arr.itemsize else 1
        for i in range(len(self.axes) - 2, -1, -1):
            if run != int(np.prod(self.sizes[i + 1 :])):
                break
            if arr.strides[self.axes[i]] != arr.strides[self.axes[i + 1]] * self.sizes[i + 1]:
                break
            run *= self.sizes[i]
        return run

    def block_view(self, arr: np.ndarray, budget: int) -> np.ndarray:
        """Window view of ``arr`` (position axes as ``arr``, then the cells) laid out for
        fast copies: when the window has several dims and it fits in ``budget`` bytes,
        and its cells do not already come in long contiguous runs, the windows of all
        but the first window dim are expanded into a contiguous array first, so that
        each row is copied in runs of ``prod(sizes[1:])`` cells rather than
        ``sizes[-1]``."""
        if len(self.axes) < 2 or self._run(arr) * arr.itemsize >= 256:
            return window_view(arr, self.axes, self.sizes, self.steps)
        counts = list(arr.shape)
        for ax, size, step in zip(self.axes[1:], self.sizes[1:], self.steps[1:], strict=True):
            counts[ax] = (arr.shape[ax] - size) // step + 1
        nbytes = int(np.prod(counts, dtype=np.int64)) * int(np.prod(self.sizes[1:])) * arr.itemsize
        if nbytes > budget:
            return window_view(arr, self.axes, self.sizes, self.steps)
        expanded = np.ascontiguousarray(
            window_view(arr, self.axes[1:], self.sizes[1:], self.steps[1:])
        )
        view = window_view(expanded, self.axes[:1], self.sizes[:1], self.steps[:1])
        return np.moveaxis(view, -1, arr.ndim)


class Table:
    """Data prepared under a layout, ready to gather rows for any sample ids."""

    def __init__(
        self, layout: Layout, ds: xr.Dataset, offsets: Mapping[Hashable, int] | None = None
    ) -> None:
        """``offsets``: where ``ds`` starts in the full data, per dim, when it is a slab
        of it (used for the labels of dims without a coordinate)."""
        check_layout(layout, ds)
        self._offsets = dict(offsets or {})
        self.layout = layout
        window = layout.window
        self.grid: SampleGrid = self.grid_for(layout, {d: int(ds.sizes[d]) for d in layout.dims})
        self._features: list[_Feature] = []
        offset = 0
        for v in layout.variables:
            var = ds[v].variable
            order = [d for d in layout.dims if d in var.dims and d not in window.dims]
            order += [d for d in window.dims if d in var.dims]
            arr = np.ascontiguousarray(var.transpose(*order).values, dtype=layout.dtype)
            wdims = tuple(d for d in window.dims if d in var.dims)
            feature = _Feature(
                order=tuple(order),
                arr=arr,
                axes=tuple(order.index(d) for d in wdims),
                sizes=tuple(window.as_dict[d] for d in wdims),
                steps=tuple(window.strides[window.dims.index(d)] for d in wdims),
                offset=offset,
            )
            self._features.append(feature)
            offset += feature.cells
        self.n_features = offset
        self._target = None
        if layout.target is not None:
            tvar = ds[layout.target].variable
            self._target = (tuple(tvar.dims), np.asarray(tvar.values))
        self._coords = coordinate_values(ds, layout.dims)

    @staticmethod
    def grid_for(layout: Layout, sizes: Mapping[Hashable, int]) -> SampleGrid:
        """The sample grid of data with these dim sizes (ordered as the layout's dims)."""
        window = layout.window
        overlap = dict(zip(window.dims, window.overlaps, strict=True))
        return sample_grid({d: sizes[d] for d in layout.dims}, window.as_dict, overlap, layout.lead)

    @property
    def n_samples(self) -> int:
        return self.grid.n_samples

    def _pos(self, ids) -> dict:
        return dict(zip(self.grid.dims, self.grid.positions(ids), strict=True))

    def valid_ids(self, dropna: bool) -> np.ndarray:
        """Ids of the samples to keep: all of them, or those free of NaN."""
        ids = np.arange(self.n_samples, dtype=np.int64)
        if not dropna:
            return ids
        pos = self._pos(ids)
        bad = np.zeros(ids.size, dtype=bool)
        for f in self._features:
            if f.arr.dtype.kind != "f":
                continue
            has_nan = window_any(np.isnan(f.arr), f.axes, f.sizes, f.steps)
            bad |= has_nan[tuple(pos[d] for d in f.order)]
        if self._target is not None:
            bad |= np.isnan(self.y(ids, pos=pos).astype(float, copy=False))
        return ids[~bad]

    def X(self, ids, pos: dict | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """Feature rows for ``ids``: one window per variable, C order over input_dims.

        Runs of ids that cover whole blocks of the sample grid (all samples sharing a
        position along the outermost dim) are copied block by block from strided views,
        the rest row by row with fancy indexing; both give the same rows. ``out``, if
        given, is a ``(len(ids), n_features)`` array of the layout's dtype to fill.
        """
        ids = np.asarray(ids, dtype=np.int64)
        n = ids.size
        shape = (n, self.n_features)
        if out is None:
            out = np.empty(shape, dtype=self.layout.dtype)
        elif out.shape != shape or out.dtype != self.layout.dtype:
            raise ValueError(f"out must have shape {shape} and dtype {self.layout.dtype}")
        block = self.grid.n_samples // self.grid.counts[0] if self.grid.n_samples else 0
        first = last = 0  # rows [first, last) are whole blocks, copied as such
        if block and n >= block and ids[-1] - ids[0] == n - 1 and np.all(np.diff(ids) == 1):
            first = int(-ids[0] % block)
            last = first + (n - first) // block * block
            for row in range(first, last, block):
                self._fill_block(int(ids[row]) // block, out[row : row + block])
        for lo, hi in ((0, first), (last, n)):
            if hi > lo:
                part = ids[lo:hi]
                sub = self._pos(part) if pos is None else {d: p[lo:hi] for d, p in pos.items()}
                for f in self._features:
                    gather_rows(f.view, tuple(sub[d] for d in f.order), out[lo:hi, f.columns])
        return out

    def _fill_block(self, p0: int, out: np.ndarray) -> None:
        """Rows of every sample at position ``p0`` along the outermost grid dim."""
        grid = self.grid
        d0 = grid.dims[0]
        inner = grid.counts[1:]
        for f in self._features:
            arr, order = f.arr, list(f.order)
            if d0 in order:  # cut the cells this position's windows read
                ax = order.index(d0)
                start = p0 * grid.strides[0]
                cut = [slice(None)] * arr.ndim
                cut[ax] = slice(start, start + grid.sizes[0])
                # a contiguous copy of the slab: when the cut dim is the last window
                # dim, the window's trailing cells become one contiguous run
                arr = np.ascontiguousarray(arr[tuple(cut)])
            view = f.block_view(arr, out.itemsize * out.shape[0] * f.cells)
            if d0 in order:
                view = view[(slice(None),) * order.index(d0) + (0,)]
                order.remove(d0)
            # position axes: keep the grid's counts, reorder as the grid, broadcast the rest
            view = view[tuple(slice(0, grid.counts[grid.dims.index(d)]) for d in order)]
            perm = [order.index(d) for d in grid.dims[1:] if d in order]
            view = view.transpose(perm + list(range(len(order), view.ndim)))
            expand = tuple(slice(None) if d in order else np.newaxis for d in grid.dims[1:])
            view = view[expand + (Ellipsis,)]
            target = out[:, f.columns].reshape(inner + view.shape[len(inner) :])
            if not np.shares_memory(target, out):  # splitting axes is always a view
                raise AssertionError("block target is not a view of the output")
            np.copyto(target, view)

    def y(self, ids, pos: dict | None = None) -> np.ndarray:
        """Label of each sample: the target variable at the sample's anchor."""
        if self._target is None:
            raise ValueError("the tabularizer has no target: pass target=Target(...)")
        pos = self._pos(ids) if pos is None else pos
        anchors = dict(
            zip(self.grid.dims, self.grid.anchors([pos[d] for d in self.grid.dims]), strict=True)
        )
        dims, values = self._target
        labels = values[tuple(anchors[d] for d in dims)]
        # a target without dims (or none varying between samples) still gives one per row
        return np.broadcast_to(labels, (int(np.size(ids)),)).copy() if labels.ndim == 0 else labels

    def coords(self, ids, pos: dict | None = None) -> pd.DataFrame:
        """One row per sample: the anchor's coordinate label along every dim."""
        pos = self._pos(ids) if pos is None else pos
        return anchor_frame(self.grid, self._coords, ids, pos, self._offsets)

    def rows(self, ids) -> tuple[np.ndarray, np.ndarray | None, pd.DataFrame]:
        """X, y (None without a target) and the coordinate frame of ``ids``."""
        pos = self._pos(ids)
        y = self.y(ids, pos=pos) if self._target is not None else None
        return self.X(ids, pos=pos), y, self.coords(ids, pos=pos)


def coordinate_values(ds: xr.Dataset, dims) -> dict:
    """Each dim's 1-D index coordinate values, or None for dims without one."""
    return {
        d: (np.asarray(ds[d].values) if d in ds.coords and ds[d].dims == (d,) else None)
        for d in dims
    }


def anchor_frame(
    grid: SampleGrid, values: Mapping, ids, pos: Mapping, offsets: Mapping | None = None
) -> pd.DataFrame:
    """The coordinate frame: per dim, the label of each sample's anchor cell (its index,
    shifted by ``offsets``, for dims without a coordinate), indexed by sample id."""
    offsets = offsets or {}
    anchors = grid.anchors([pos[d] for d in grid.dims])
    columns = {}
    for d, idx in zip(grid.dims, anchors, strict=True):
        columns[d] = values[d][idx] if values[d] is not None else idx + offsets.get(d, 0)
    return pd.DataFrame(columns, index=pd.Index(np.asarray(ids, dtype=np.int64), name="sample"))


def grid_positions(values: np.ndarray, labels: Mapping | pd.Series, dim: Hashable) -> np.ndarray:
    """Position of each label on a grid axis, with a clear error for labels not on it."""
    index = pd.Index(values)
    found = index.get_indexer(np.asarray(labels))
    if (found < 0).any():
        bad = np.asarray(labels)[found < 0][:3]
        raise ValueError(f"coordinate labels {list(bad)} along {dim!r} are not on the grid")
    return found
