"""One way to read a source slab by slab, shared by batches and dask blocks.

A *slab* (:func:`~xbatcher_tab._core.plan.slab_plan`) is the samples whose windows start in
one source chunk of the outermost sample dim, with the cells they read (the chunk plus
the window's halo). :class:`SlabSource` plans the slabs of some data under a layout and
turns a slab into a :class:`~xbatcher_tab._table.table.Table` whose ids are global, so any
consumer gets rows with the ids of the whole table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from .._core.coords import sample_frame
from .._core.data import as_dataset, chunk_sizes, is_lazy
from .._core.plan import Slab, slab_plan
from .._engine.runtime import Runtime
from .._fit.layout import Layout, check_layout, check_lengths, in_layout_order, select_needed
from .table import DataContext, Table, Tabular

__all__ = [
    "Prepared",
    "SlabSource",
    "load_table",
    "map_slabs",
    "needed_data",
    "prepare",
    "slab_table",
]


@dataclass(frozen=True)
class Prepared:
    """Data prepared once, at a public entry, under a layout: a Dataset of the
    variables the layout reads (the target only if ``labelled`` or a feature), checked
    against the layout from its metadata, in the layout's order and direction along
    every dim with a coordinate. Everything below the entry takes it as it is.
    ``source``: the data as given, every variable (what a callable ``where`` sees)."""

    ds: xr.Dataset
    labelled: bool
    source: xr.Dataset


def prepare(layout: Layout, data: object, labelled: bool | None = None) -> Prepared:
    """``data`` prepared under ``layout`` (see :class:`Prepared`): checked from its
    metadata alone (before anything is read) and put in the layout's order along every
    dim with a coordinate (:func:`~xbatcher_tab._fit.layout.in_layout_order`: lazily
    for dask-backed data). Unlabelled (``labelled=False``), the target variable is not
    read unless it is a feature. Data prepared already is returned as it is."""
    if isinstance(data, Prepared):
        return data
    source = ds = as_dataset(data)
    check_layout(layout, ds, labelled, forecasts=True)  # lengths: where they are cut
    ds = in_layout_order(layout, select_needed(layout, ds))
    labelled = layout.labelled(ds) if labelled is None else labelled and layout.labelled(ds)
    if not labelled and layout.target not in layout.variables and layout.labelled(ds):
        ds = ds.drop_vars([layout.target])
    return Prepared(ds, labelled, source)


def needed_data(
    layout: Layout, data: object, labelled: bool | None = None, forecasts: bool | None = None
) -> Prepared:
    """``data`` prepared (:func:`prepare`), its lengths checked for the windows a table
    cuts: the label must lie inside along lead dims unless ``forecasts`` (default:
    when the data is unlabelled, asked to be or without the target)."""
    prepared = prepare(layout, data, labelled)
    # data without labels gives forecasts (windows whose label lies past its end), as
    # the table's context does (DataContext.of): the label need not fit inside it
    forecasts = (not prepared.labelled) if forecasts is None else forecasts
    check_lengths(layout, prepared.ds, prepared.labelled, forecasts)
    return prepared


def load_table(
    layout: Layout,
    data: object,
    labelled: bool | None = None,
    runtime: Runtime | None = None,
) -> Table:
    """The whole data as one Table (dask-backed data computed, only what is needed)."""
    prepared = needed_data(layout, data, labelled)
    ds = prepared.ds.compute()
    context = DataContext.of(layout, ds, labelled, where_data=prepared.source)
    return Table(layout, ds, context=context, runtime=runtime)


def slab_table(
    layout: Layout, part: xr.Dataset, slab: Slab, context: DataContext, runtime: Runtime
) -> Table:
    """The Table of a slab (``part``: its cells, numpy-backed)."""
    return Table(
        layout,
        part,
        start=slab.cells.start,
        context=context,
        positions=slab.positions,
        runtime=runtime,
    )


class SlabSource:
    """The data of a layout, planned in slabs and read one slab at a time.

    Parameters
    ----------
    layout : Layout
    data : Dataset or DataArray
        Checked against the layout (metadata only) and reduced to the variables it
        needs.
    load : bool
        Load dask-backed data whole, as one slab.
    block_bytes : int, optional
        Cut numpy-backed data into dask chunks of about this many bytes of X along the
        outermost dim (for dask blocks); without it numpy-backed data is one slab.
    keep : int
        Slabs kept loaded (the most recently read).
    labelled : bool, optional
        Whether samples need their label inside the data (default: whether the data
        holds the target variable); see :meth:`Layout.labelled`.
    forecasts : bool, optional
        Whether windows whose anchor lies past the data's end along lead dims are
        samples (default: unlabelled).
    steps : dict, optional
        How to label cells past the end of some dims (see
        :class:`~xbatcher_tab._core.coords.Labels`).
    runtime : Runtime, optional
        How the slabs' rows are gathered; default: the options in force now, on one
        thread.
    """

    def __init__(
        self,
        layout: Layout,
        data: xr.Dataset | xr.DataArray,
        *,
        load: bool = False,
        block_bytes: int | None = None,
        keep: int = 2,
        labelled: bool | None = None,
        forecasts: bool | None = None,
        steps: dict | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        prepared = needed_data(layout, data, labelled, forecasts)
        ds = prepared.ds
        self.layout = layout
        self.runtime = Runtime.current() if runtime is None else runtime
        self.context = DataContext.of(
            layout, ds, labelled, forecasts, steps, where_data=prepared.source
        )
        self.labelled = self.context.labelled
        self.coords = self.context.coords
        self.grid = layout.grid(ds.sizes, not self.context.forecasts)
        d0 = self.grid.dims[0]
        if load and is_lazy(ds.variables.values()):
            ds = ds.compute()
        if block_bytes is not None and not is_lazy(ds.variables.values()):
            row_bytes = max(1, layout.n_features * layout.dtype.itemsize)
            positions = max(1, math.ceil(block_bytes // row_bytes / max(self.grid.inner, 1)))
            ds = ds.chunk({d0: positions * layout.window.stride(d0)})
        self.ds = ds
        self.lazy = is_lazy(ds.variables.values())
        chunks = chunk_sizes(ds, d0) if self.lazy else None
        self.slabs: list[Slab] = slab_plan(self.grid, chunks, int(ds.sizes[d0]))
        self._first_ids = np.array([s.first_id for s in self.slabs], dtype=np.int64)
        self.keep = keep
        self._cache: dict[int, Table] = {}

    def part(self, k: int) -> xr.Dataset:
        """The cells of slab ``k`` (lazy for dask-backed data)."""
        return self.ds.isel({self.grid.dims[0]: self.slabs[k].cells})

    def table(self, k: int) -> Table:
        """The Table of slab ``k``, read now unless it is among the last ``keep``."""
        if k not in self._cache:
            if len(self._cache) >= self.keep:
                self._cache.pop(next(iter(self._cache)))
            self._cache[k] = slab_table(
                self.layout, self.part(k).compute(), self.slabs[k], self.context, self.runtime
            )
        return self._cache[k]

    def ids(self, k: int) -> np.ndarray:
        """Global ids of the samples slab ``k`` keeps (reads it only under dropna)."""
        slab = self.slabs[k]
        if not self.layout.selects:
            return np.arange(slab.first_id, slab.first_id + slab.n_samples, dtype=np.int64)
        return self.table(k).valid_ids()

    def counts(self) -> np.ndarray:
        """The number of samples each slab keeps: from the plan, or under ``dropna`` or
        ``where`` by reading every slab (lazy data in one dask computation)."""
        if not self.layout.selects:
            return np.array([s.n_samples for s in self.slabs], dtype=np.int64)
        if not self.lazy:
            return np.array([self.ids(k).size for k in range(len(self.slabs))], dtype=np.int64)
        import dask

        return np.array(dask.compute(*map_slabs(self, _kept)), dtype=np.int64)

    def rows(self, ids: np.ndarray) -> Tabular:
        """Rows of global ``ids`` in that order (their slabs read as needed)."""
        ids = np.asarray(ids, dtype=np.int64)
        slab_of = np.searchsorted(self._first_ids, ids, side="right") - 1
        slabs = np.unique(slab_of)
        if len(slabs) == 1:
            return self.table(int(slabs[0])).rows(ids)
        # a slab's rows straight into X where they are a run of the batch; scattered
        # rows read in the slab's order (cache-friendly) and each put in its row of X
        # as it is copied: no permutation of the whole batch afterwards
        X = np.empty((ids.size, self.layout.n_features), dtype=self.layout.dtype)
        y = None
        for k in slabs:
            table = self.table(int(k))
            mine = slab_of == k
            rows = np.flatnonzero(mine)
            if rows[-1] - rows[0] + 1 == rows.size:  # a run of the batch (sequential)
                run = slice(int(rows[0]), int(rows[-1]) + 1)
                table.X(ids[run], out=X[run])
            else:
                rows = rows[np.argsort(ids[rows])]  # read in the slab's order
                table.X(ids[rows], out=X, at=rows)
            if self.labelled:
                labels = table.y(ids[mine])
                if y is None:
                    y = np.empty(ids.size, dtype=labels.dtype)
                y[mine] = labels
        # anchors depend on the ids alone: the coordinate frame in one piece
        return Tabular(X, y, sample_frame(self.coords, self.grid, ids))


def map_slabs(
    source: SlabSource,
    func: Callable,
    *args: Any,
    each: Sequence[tuple] | None = None,
    nout: int | None = None,
) -> list:
    """One dask task per slab of ``source``: ``func(table, *args, *each[k])`` on the
    :class:`Table` of slab ``k``, read inside the task (lazy data stays lazy until
    computed); ``each``: arguments of each slab's own.

    Tasks are pure (the same slab and arguments give the same key) and built from
    module-level functions of plain values, so they pickle to remote workers; each
    gathers on one thread, as dask runs the tasks in parallel. ``func`` must be a
    module-level function; ``nout`` as in ``dask.delayed``.
    """
    import dask

    runtime = source.runtime.single_threaded()  # dask runs the tasks in parallel
    task = dask.delayed(_on_slab, pure=True, nout=nout)
    layout, context = source.layout, source.context
    return [
        task(
            func, layout, runtime, source.part(k), slab, context, *args, *(each[k] if each else ())
        )
        for k, slab in enumerate(source.slabs)
    ]


def _kept(table: Table) -> int:
    """The number of samples a slab's table keeps: a dask task."""
    return int(table.valid_ids().size)


def _on_slab(
    func: Callable, layout: Layout, runtime: Runtime, part, slab: Slab, context: DataContext, *args
):
    """``func`` on the Table of one slab (``part``: its cells): a dask task."""
    return func(slab_table(layout, part, slab, context, runtime), *args)
