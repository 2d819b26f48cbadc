"""Window index math: counts, starts and xbatcher-compatible batch plans.

Everything here is computed from sizes alone (no xarray, no data, no state), so a
plan is a plain value that can be inspected, pickled and tested on its own.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["Axis", "BatchPlan", "window_count", "window_starts", "xbatcher_plans"]


def window_count(length: int, size: int, stride: int) -> int:
    """Number of windows of ``size`` at ``stride`` that fit in ``length`` cells.

    Examples
    --------
    >>> window_count(60, 10, 1)
    51
    >>> window_count(60, 31, 31)
    1
    >>> window_count(5, 6, 1)
    0
    """
    if length < size:
        return 0
    return (length - size) // stride + 1


def window_starts(length: int, size: int, stride: int) -> np.ndarray:
    """Start index of every window that fits, in increasing order.

    Examples
    --------
    >>> window_starts(10, 4, 3).tolist()
    [0, 3, 6]
    """
    return np.arange(window_count(length, size, stride), dtype=np.int64) * stride


@dataclass(frozen=True)
class Axis:
    """One sliced dim of a plan: windows of ``size`` cells every ``stride`` cells."""

    dim: Hashable
    size: int
    stride: int
    count: int

    def bounds(self, windows: range) -> slice:
        """The slab of cells covered by a contiguous range of window indices."""
        return slice(windows.start * self.stride, (windows.stop - 1) * self.stride + self.size)


@dataclass(frozen=True)
class BatchPlan:
    """The windows of one batch: a contiguous range of window indices per sliced dim.

    The batch holds the Cartesian product of the ranges, enumerated in C order over
    ``axes`` (the last axis varies fastest).
    """

    axes: tuple[Axis, ...]
    windows: tuple[range, ...]

    @property
    def n_windows(self) -> int:
        return math.prod(len(r) for r in self.windows)

    def selector(self) -> dict[Hashable, slice]:
        """``isel`` selector of the slab that holds every window of the batch."""
        return {ax.dim: ax.bounds(r) for ax, r in zip(self.axes, self.windows, strict=True)}


def xbatcher_plans(
    dim_sizes: Mapping[Hashable, int],
    input_dims: Mapping[Hashable, int],
    input_overlap: Mapping[Hashable, int],
    batch_dims: Mapping[Hashable, int],
    concat_input_dims: bool,
) -> list[BatchPlan]:
    """Batches in the order and composition of xbatcher 0.4.0's ``BatchGenerator``.

    Sliced dims are the batch dims that are not input dims (windows of the batch size,
    no overlap), then the input dims. Without ``concat_input_dims`` every window is a
    batch of its own. With it, windows are grouped: per dim, window ``i`` goes to batch
    ``i // ceil(batch_size / stride)`` and windows whose batch index reaches
    ``length // batch_size`` are dropped, as xbatcher 0.4.0 does. Unlike xbatcher,
    batches left empty by that rule are skipped rather than yielded.

    Examples
    --------
    >>> plans = xbatcher_plans({"time": 60}, {"time": 10}, {"time": 9}, {"time": 20}, True)
    >>> [p.n_windows for p in plans]
    [20, 20, 11]
    >>> [p.selector() for p in plans][-1]
    {'time': slice(40, 60, None)}
    """
    unique_batch = {d: n for d, n in batch_dims.items() if d not in input_dims}
    axes = [Axis(d, n, n, window_count(dim_sizes[d], n, n)) for d, n in unique_batch.items()]
    for d, n in input_dims.items():
        stride = n - input_overlap.get(d, 0)
        axes.append(Axis(d, n, stride, window_count(dim_sizes[d], n, stride)))
    axes_t = tuple(axes)

    if not concat_input_dims:
        return [
            BatchPlan(axes_t, tuple(range(i, i + 1) for i in idx))
            for idx in itertools.product(*(range(ax.count) for ax in axes_t))
        ]

    # Per sliced dim: the window-index ranges of each batch along that dim.
    per_dim: list[list[range]] = []
    for ax in axes_t:
        if ax.dim in batch_dims:
            per_batch = math.ceil(batch_dims[ax.dim] / ax.stride)
            n_batches = dim_sizes[ax.dim] // batch_dims[ax.dim]
            ranges = [
                range(b * per_batch, min((b + 1) * per_batch, ax.count)) for b in range(n_batches)
            ]
        else:
            ranges = [range(ax.count)]
        per_dim.append(ranges)
    return [
        BatchPlan(axes_t, combo)
        for combo in itertools.product(*per_dim)
        if all(len(r) > 0 for r in combo)
    ]


@dataclass(frozen=True)
class SampleGrid:
    """The samples of a table: one per combination of positions along every data dim.

    Every dim is cut into windows of ``size`` cells every ``stride`` cells (a sample dim
    is a window of one cell at stride one). Sample ids enumerate positions in C order
    over ``dims``; the anchor of position ``p`` along a dim is cell
    ``p * stride + anchor``.

    Examples
    --------
    >>> grid = SampleGrid(("time", "x"), (3, 5), (3, 1), (1, 1), (2, 0), (True, False))
    >>> grid.n_samples
    15
    >>> [a.tolist() for a in grid.anchors(grid.positions([0, 7, 14]))]
    [[2, 3, 4], [0, 2, 4]]
    """

    dims: tuple[Hashable, ...]
    counts: tuple[int, ...]
    sizes: tuple[int, ...]
    strides: tuple[int, ...]
    anchor: tuple[int, ...]
    windowed: tuple[bool, ...]

    @property
    def n_samples(self) -> int:
        return math.prod(self.counts)

    def positions(self, ids) -> tuple[np.ndarray, ...]:
        """Position along each dim of each sample id."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.n_samples):
            raise IndexError(f"sample ids must be in [0, {self.n_samples}), got {ids.min()}..")
        return np.unravel_index(ids, self.counts) if self.counts else ()

    def anchors(self, positions) -> tuple[np.ndarray, ...]:
        """Cell index of the anchor along each dim, from positions."""
        return tuple(
            np.asarray(p, dtype=np.int64) * s + a
            for p, s, a in zip(positions, self.strides, self.anchor, strict=True)
        )


def sample_grid(
    dim_sizes: Mapping[Hashable, int],
    input_dims: Mapping[Hashable, int],
    input_overlap: Mapping[Hashable, int],
    lead: Mapping[Hashable, int],
) -> SampleGrid:
    """Build the :class:`SampleGrid` for data of ``dim_sizes`` (ordered as the data).

    Along a windowed dim the anchor is the centre cell (``size // 2``); along a dim with
    a ``lead`` it is the label cell ``size - 1 + lead``, and windows whose label falls
    outside the data are dropped.

    Examples
    --------
    >>> g = sample_grid({"time": 60, "lat": 145}, {"time": 9, "lat": 9}, {"time": 8, "lat": 8},
    ...                 {"time": 1})
    >>> g.counts, g.anchor
    ((51, 137), (9, 4))
    """
    counts, sizes, strides, anchor, windowed = [], [], [], [], []
    for d, length in dim_sizes.items():
        size = input_dims.get(d, 1)
        stride = size - input_overlap.get(d, 0)
        ahead = lead.get(d, 0)
        counts.append(window_count(length - ahead, size, stride))
        sizes.append(size)
        strides.append(stride)
        anchor.append(size - 1 + ahead if d in lead else size // 2)
        windowed.append(d in input_dims)
    return SampleGrid(
        tuple(dim_sizes),
        tuple(counts),
        tuple(sizes),
        tuple(strides),
        tuple(anchor),
        tuple(windowed),
    )
