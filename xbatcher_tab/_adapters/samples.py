"""Samples for deep-learning loaders: any sample by its index, flat or as its window.

:class:`Samples` is what the torch and Keras datasets share: the valid samples of some
data under a fitted layout (after ``dropna`` and ``where``), gathered by index in any
order with the one copy engine, shaped as flat rows or as windows
(:meth:`~xbatcher_tab._core.columns.RowColumns.to_windows`), with their labels and weights.
It pickles without the data it has read (each process of a data loader reads the data
again on first use; dask-backed sources stay lazy until then).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .._core.checks import check_bool, check_choice
from .._core.data import computing_in
from .._engine.runtime import Runtime
from .._fit.layout import Layout
from .._fit.weights import sample_weight
from .._table.sampling import sampled_positions
from .._table.slabs import load_table
from .._table.table import Table

__all__ = ["SHAPES", "Batch", "Samples", "shaped"]

SHAPES = ("flat", "window")


@dataclass
class Batch:
    """Some samples: ``x`` (flat rows, windows, or ``(windows, extras)``), ``y`` (None
    without labels) and ``w`` (None without the tabularizer's weight)."""

    x: object
    y: np.ndarray | None
    w: np.ndarray | None

    def parts(self) -> tuple:
        """``(x, y)``, ``(x, y, w)`` or ``(x,)``: what a loader yields."""
        out = (self.x,) if self.y is None else (self.x, self.y)
        return out + ((self.w,) if self.w is not None and self.y is not None else ())


def shaped(layout: Layout, X: np.ndarray, shape: str, channels_last: bool = False):
    """Rows ``X`` as ``shape`` asks: themselves (``"flat"``), or their windows
    (``"window"``): the windows alone, or ``(windows, extras)`` when rows hold columns
    with no window position (centering references, summaries, coordinate features)."""
    if shape == "flat":
        return X
    windows, extras = layout.columns.to_windows(X, channels_last)
    return windows if extras is None else (windows, extras)


def check_shape(shape: object) -> str:
    return check_choice("shape", shape, SHAPES)


class Samples:
    """The samples of ``data`` under ``layout``, by index ``0 .. len - 1``.

    The data is read whole (dask-backed data computed, only what the layout needs) on
    first use in each process: map-style access reads any sample in any order, so it
    holds the source in memory; for a source larger than memory use the iterable
    datasets, which read slab by slab.
    """

    def __init__(
        self,
        layout: Layout,
        data: xr.Dataset,
        shape: str = "flat",
        channels_last: bool = False,
        runtime: Runtime | None = None,
        sample: float | int | None = None,
        seed: object = None,
    ) -> None:
        self.layout = layout
        self.runtime = Runtime.current() if runtime is None else runtime
        self.data = data
        self.shape = check_shape(shape)
        self.channels_last = check_bool("channels_last", channels_last)
        self.labelled = layout.labelled(data)
        self._table: Table | None = None
        self._ids: np.ndarray | None = None
        self._owner = os.getpid()  # a loader's worker is another process
        self.sample, self.seed = sample, seed

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_table"] = state["_ids"] = None  # read again where it is used
        return state

    @property
    def table(self) -> Table:
        if self._table is None:
            with computing_in(self._owner):
                self._table = load_table(self.layout, self.data, runtime=self.runtime)
        return self._table

    @property
    def ids(self) -> np.ndarray:
        """The global ids of the samples, in table order (reads the data under
        ``dropna`` or ``where``): those drawn by ``sample``, if given."""
        if self._ids is None:
            ids = self.table.valid_ids()
            if self.sample is not None:  # the subset every path draws for the seed
                ids = ids[sampled_positions([ids.size], self.sample, self.seed)]
            self._ids = ids
        return self._ids

    def __len__(self) -> int:
        return int(self.ids.size)

    def batch(self, index, out: np.ndarray | None = None) -> Batch:
        """The samples at ``index`` (positions ``0 .. len - 1``, any order), gathered in
        one call (into ``out``, ``(len(index), n_features)``, if given)."""
        with computing_in(self._owner):  # a weight may be dask-backed too
            return self._batch(index, out)

    def _batch(self, index, out: np.ndarray | None) -> Batch:
        index = np.asarray(index, dtype=np.int64)
        if index.size and (index.min() < -len(self) or index.max() >= len(self)):
            raise IndexError(f"sample index out of range for {len(self)} samples")
        ids = self.ids[index]
        table = self.table
        X = table.X(ids, out=out)
        y = table.y(ids) if self.labelled else None
        w = None
        if self.layout.weight is not None:
            w = sample_weight(self.layout.weight, table.coords(ids))
        return Batch(shaped(self.layout, X, self.shape, self.channels_last), y, w)
