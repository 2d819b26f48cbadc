"""Data prepared under a layout: rows of X, labels and coordinate frames for any ids.

A :class:`Table` composes the pieces that cut a table from data held in memory: each
feature variable laid out once (:mod:`~xbatcher_tab._engine.features`), the samples kept
(:mod:`~xbatcher_tab._table.selection`), the copy engine that writes rows for any ids
(:mod:`~xbatcher_tab._engine.copy`) and their finishing (:mod:`~xbatcher_tab._engine.finish`), and
the labels and coordinate frames (:mod:`~xbatcher_tab._core.coords`). Ids are always
*global*: a table cut from a slab of the data (``start`` cells into the outermost dim)
knows where its samples sit in the whole grid, so every consumer (a whole table, a
batch, a shuffled subset, a dask block) gives a sample the same id, row and label.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from .._core.coords import anchor_cells, anchor_frame, coordinate_values
from .._core.plan import SampleGrid
from .._engine.copy import RowCopier
from .._engine.features import FeatureArray, table_extents
from .._engine.finish import Finisher
from .._engine.runtime import Runtime
from .._fit.layout import Layout, check_labels, check_layout
from .._fit.outliers import apply_bounds, flagged
from .selection import flagged_windows, in_mask, nan_windows, resolve_where

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
class DataContext:
    """What a table cut from a slab needs to know of the whole data.

    ``coords``: each dim's :class:`~xbatcher_tab._core.coords.Labels` (to label anchors,
    including forecast anchors past the data's end), or None; ``labelled``: whether
    samples have their label, read from the data; ``forecasts``: whether windows whose
    anchor lies past the data's end along lead dims are samples (only without labels);
    ``mask``: the layout's ``where`` on the whole data, as ``(dims, boolean array)``
    (samples whose anchor it marks False are dropped, those past its end kept), or
    None; ``sizes``: the whole data's dim lengths.
    """

    coords: dict
    labelled: bool
    mask: tuple[tuple[Hashable, ...], np.ndarray] | None
    sizes: dict
    forecasts: bool = False

    @classmethod
    def of(
        cls,
        layout: Layout,
        ds: xr.Dataset,
        labelled: bool | None = None,
        forecasts: bool | None = None,
        steps: dict | None = None,
        where_data: xr.Dataset | None = None,
    ) -> DataContext:
        """The context of ``ds`` as the whole data (``labelled`` default: whether it
        holds the target variable; ``forecasts`` default: whether it is unlabelled;
        ``steps``: how to label cells past the end of some dims, see
        :class:`~xbatcher_tab._core.coords.Labels`). Evaluates ``where`` on it (a callable
        ``where`` runs on the whole, possibly lazy, data as the user gave it,
        ``where_data``, every variable; its mask is computed and aligned by label)."""
        labelled = layout.labelled(ds) if labelled is None else labelled
        forecasts = (not labelled) if forecasts is None else (forecasts and not labelled)
        return cls(
            coordinate_values(ds, layout.dims, steps),
            labelled,
            resolve_where(layout.where, ds, layout.dims, where_data),
            {d: int(ds.sizes[d]) for d in layout.dims},
            forecasts,
        )


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
    positions : range, optional
        For a slab: the positions along the outermost dim whose samples it holds.
    runtime : Runtime, optional
        How its rows are gathered (threads, copy budget, engine); default: the options
        in force now, on one thread.

    Attributes
    ----------
    grid : the table's samples; ``first_id`` the global id of the first.
    features : each feature variable laid out for gathering.
    copier : the copy engine writing its rows (:meth:`X` delegates to it).
    """

    def __init__(
        self,
        layout: Layout,
        ds: xr.Dataset,
        start: int = 0,
        context: DataContext | None = None,
        positions: range | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        self.runtime = Runtime.current() if runtime is None else runtime
        context = DataContext.of(layout, ds) if context is None else context
        labelled = context.labelled
        if labelled:
            check_labels(layout, ds)
        check_layout(layout, ds, labelled)
        self.layout = layout
        self.labelled = labelled
        window = layout.window
        d0 = layout.dims[0]
        whole = layout.grid(context.sizes, not context.forecasts)
        if positions is None:
            if start or ds.sizes[d0] != context.sizes[d0]:
                raise ValueError("a slab of the data needs the positions it holds")
            positions = range(whole.counts[0])
        counts = (len(positions),) + whole.counts[1:]
        self.grid: SampleGrid = SampleGrid(whole.dims, counts, window, whole.labelled)
        self.start = start
        self.offset = positions.start * window.stride(d0)  # cells before position 0
        self.first_id = positions.start * self.grid.inner
        extents = table_extents(
            window, layout.dims, positions, start, int(ds.sizes[d0]), context.sizes
        )
        plans, coord_columns = layout.column_plan()
        self.features: list[FeatureArray] = []
        for plan in plans:
            feature = FeatureArray.prepare(layout, plan, ds[plan.variable].variable, extents)
            feature.summarize()
            self.features.append(feature)
        self.n_features = coord_columns.stop
        self._mask = context.mask
        self._target = None
        self._label_outliers = None  # labels that are outliers, to drop their samples
        if labelled:
            tvar = ds[layout.target].variable
            labels = np.asarray(tvar.values)
            bounds = layout.outliers.get(layout.target)
            if bounds is not None:  # a rule of the target's covers its labels
                if layout.outlier_action == "drop":
                    self._label_outliers = flagged(labels, bounds)
                labels = apply_bounds(labels, bounds, layout.outlier_action)
            self._target = (tuple(tvar.dims), labels)
        self._coords = context.coords
        finisher = Finisher.of(
            self.features,
            layout.coord_features,
            coord_columns.start,
            self.grid,
            self.offset,
            context.coords,
        )
        self.copier = RowCopier(
            self.features,
            self.grid,
            window,
            self.first_id,
            finisher,
            layout.dtype,
            self.n_features,
            self.runtime.n_jobs,
            self.runtime.budget,
            self.runtime.engine,
        )

    @property
    def n_samples(self) -> int:
        """Samples of this table (of the slab, for a slab)."""
        return self.grid.n_samples

    def valid_ids(self) -> np.ndarray:
        """Global ids of the samples to keep: all, less those ``where`` drops and,
        under ``dropna``, those with NaN in a feature or the label (``"target"``: in the
        label)."""
        ids = np.arange(self.n_samples, dtype=np.int64) + self.first_id
        if not self.layout.selects:
            return ids
        pos = self.copier.positions(ids)
        bad = np.zeros(ids.size, dtype=bool)
        if self.layout.dropna is True:
            bad |= nan_windows(self.features, pos, ids.size)
        if self.layout.dropna and self._target is not None:
            bad |= np.isnan(self.y(ids, pos=pos).astype(float, copy=False))
        if self._mask is not None:
            bad |= ~in_mask(self._mask, self.anchor_cells(ids, pos), ids.size)
        if self.layout.outlier_action == "drop":
            bad |= flagged_windows(self.features, pos, ids.size)
            if self._label_outliers is not None:
                bad |= self._label_cells(self._label_outliers, ids, pos)
        return ids[~bad]

    def X(self, ids, pos: dict | None = None, out=None, at=None) -> np.ndarray:
        """Feature rows for ``ids``: one window per variable, C order over input_dims.

        ``out``, if given, is a ``(len(ids), n_features)`` array of the layout's dtype
        to fill; with ``at`` (distinct row numbers of ``out``, one per id), the row of
        ``ids[i]`` goes to ``out[at[i]]`` rather than ``out[i]``. With the runtime's
        ``n_jobs`` > 1, large gathers are split among that many threads: the same
        rows. See :class:`~xbatcher_tab._engine.copy.RowCopier`.
        """
        return self.copier.rows(ids, pos=pos, out=out, at=at)

    # -- y and coordinates ---------------------------------------------------------------

    def anchor_cells(self, ids, pos: dict | None = None) -> dict[Hashable, np.ndarray]:
        """Cell of each sample's anchor along every dim, in the whole data (past its
        end for forecasts)."""
        pos = self.copier.positions(ids) if pos is None else pos
        return anchor_cells(self.grid, [pos[d] for d in self.grid.dims], self.offset)

    def y(self, ids, pos: dict | None = None) -> np.ndarray:
        """Label of each sample: the target variable at the sample's anchor."""
        if self._target is None:
            check_labels(self.layout)  # raises: no target, or no target in the data
        dims, values = self._target
        labels = self._label_cells(values, ids, pos)
        # a target without dims (or none varying between samples) still gives one per row
        return np.broadcast_to(labels, (int(np.size(ids)),)).copy() if labels.ndim == 0 else labels

    def _label_cells(self, values: np.ndarray, ids, pos: dict | None) -> np.ndarray:
        """``values`` (over the target's dims) at each sample's anchor."""
        cells = self.anchor_cells(ids, pos)
        d0 = self.grid.dims[0]
        cells[d0] = cells[d0] - self.start  # the target's cells in this slab
        return values[tuple(cells[d] for d in self._target[0])]

    def coords(self, ids, pos: dict | None = None) -> pd.DataFrame:
        """One row per sample: the anchor's coordinate label along every dim."""
        return anchor_frame(self._coords, self.anchor_cells(ids, pos), ids)

    def rows(self, ids) -> Tabular:
        """X, y (None without a target) and the coordinate frame of ``ids``."""
        pos = self.copier.positions(ids)
        y = self.y(ids, pos=pos) if self._target is not None else None
        return Tabular(self.X(ids, pos=pos), y, self.coords(ids, pos=pos))
