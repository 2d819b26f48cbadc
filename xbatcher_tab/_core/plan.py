"""Plans from sizes alone: window starts, the sample grid, slabs.

Everything here is computed from a :class:`~xbatcher_tab._core.window.WindowSpec` and dim
lengths (no xarray, no data, no state), so a plan is a plain value that can be
inspected, pickled and tested on its own. The per-dim arithmetic (stride, anchor,
reach) is the spec's; this module only combines it over dims.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .window import WindowSpec, window_count

__all__ = [
    "SampleGrid",
    "Slab",
    "sample_grid",
    "slab_plan",
    "window_count",
    "window_starts",
]


def window_starts(length: int, size: int, stride: int) -> np.ndarray:
    """Start index of every window that fits, in increasing order.

    Examples
    --------
    >>> window_starts(10, 4, 3).tolist()
    [0, 3, 6]
    """
    return np.arange(window_count(length, size, stride), dtype=np.int64) * stride


# -- the samples of a table ------------------------------------------------------------------


@dataclass(frozen=True)
class SampleGrid:
    """The samples of a table: one per combination of positions along every data dim.

    Sample ids enumerate positions in C order over ``dims`` (outermost first). Along
    each dim, position ``p`` is the window starting at cell ``spec.first_cell(dim, p)``
    (``p * spec.stride(dim)``, less the margin of a boundary); its anchor is
    ``spec.anchor(dim)`` cells further.

    Examples
    --------
    >>> spec = WindowSpec(("time",), (3,), (0,), leads=())
    >>> grid = sample_grid(spec, {"time": 9, "x": 5})
    >>> grid.counts, grid.n_samples, grid.inner
    ((3, 5), 15, 5)
    >>> [a.tolist() for a in grid.anchors(grid.positions([0, 7, 14]))]
    [[1, 4, 7], [0, 2, 4]]
    """

    dims: tuple[Hashable, ...]
    counts: tuple[int, ...]
    spec: WindowSpec
    labelled: bool = True

    @property
    def n_samples(self) -> int:
        return math.prod(self.counts)

    @property
    def inner(self) -> int:
        """Samples per position of the outermost dim."""
        return math.prod(self.counts[1:])

    def positions(self, ids) -> tuple[np.ndarray, ...]:
        """Position along each dim of each sample id."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.n_samples):
            raise IndexError(
                f"sample ids must be in [0, {self.n_samples}), got {ids.min()}..{ids.max()}"
            )
        return np.unravel_index(ids, self.counts) if self.counts else ()

    def anchors(self, positions) -> tuple[np.ndarray, ...]:
        """Cell index of the anchor along each dim, from positions (past the data's end
        for forecasts)."""
        return tuple(
            self.spec.anchor_cell(d, np.asarray(p, dtype=np.int64))
            for d, p in zip(self.dims, positions, strict=True)
        )


def sample_grid(
    spec: WindowSpec, dim_sizes: Mapping[Hashable, int], labelled: bool = True
) -> SampleGrid:
    """The :class:`SampleGrid` of data with ``dim_sizes`` (ordered outermost first).

    ``labelled``: only windows whose label lies inside the data are samples; otherwise
    every window whose cells lie inside it (along lead dims the last windows then
    anchor past the data's end: forecasts).

    Examples
    --------
    >>> spec = WindowSpec(("time", "lat"), (9, 9), (8, 8), leads=(("time", 1),))
    >>> sample_grid(spec, {"time": 60, "lat": 145}).counts
    (51, 137)
    """
    dims = tuple(dim_sizes)
    counts = tuple(spec.count(d, int(dim_sizes[d]), labelled) for d in dims)
    return SampleGrid(dims, counts, spec, labelled)


@dataclass(frozen=True)
class Slab:
    """The samples whose windows start in one source chunk of the outermost dim.

    ``positions`` are their positions along that dim, ``cells`` the source cells they
    read there (the chunk's windows plus the halo reaching into the next chunk), and
    ``first_id`` the id of the slab's first sample in the whole grid.
    """

    positions: range
    cells: slice
    first_id: int
    n_samples: int


def slab_plan(
    grid: SampleGrid, chunks: Sequence[int] | None = None, length: int | None = None
) -> list[Slab]:
    """Cut the outermost dim of ``grid`` at the source's chunk edges.

    ``chunks`` are the source's chunk lengths along ``grid.dims[0]`` (None: one
    chunk); ``length`` that dim's length (default: the chunks' sum), which bounds the
    cells a slab reads where windows reach into a boundary's margins. A sample belongs
    to the chunk its window starts in (those starting in the margin before the data,
    to the first); slabs without a sample are left out, so every sample is in exactly
    one slab, in id order. Slabs whose windows reach past the data's end are merged
    into one, and a periodic dim is one slab (its margins are the other side of it).

    Examples
    --------
    >>> spec = WindowSpec(("time",), (3,), (2,), leads=(("time", 1),))
    >>> grid = sample_grid(spec, {"time": 10, "x": 2})
    >>> [(s.positions, s.cells, s.first_id) for s in slab_plan(grid, (4, 4, 2))]
    [(range(0, 4), slice(0, 7, None), 0), (range(4, 7), slice(4, 10, None), 8)]
    """
    if not grid.dims:
        return []
    d0 = grid.dims[0]
    spec = grid.spec
    n0, stride = grid.counts[0], spec.stride(d0)
    reach = spec.reach(d0, grid.labelled)
    if length is None:
        length = int(sum(chunks)) if chunks else spec.first_cell(d0, n0 - 1) + reach
    if spec.boundary(d0) == "periodic":  # margins wrap from the whole dim: one slab
        return [Slab(range(0, n0), slice(0, length), 0, grid.n_samples)] if n0 else []
    before = spec.margins(d0)[0]
    edges = list(np.cumsum((0, *chunks))) if chunks else [0, length]
    starts = []  # first position of each chunk's slab
    for c0 in edges[:-1]:
        p = 0 if c0 == 0 else min(n0, -(-(int(c0) + before) // stride))
        starts.append(p)
    starts.append(n0)
    # the first slab whose windows (or labels) reach past the data's end takes the rest
    for k in range(len(starts) - 1):
        if starts[k + 1] > starts[k] and spec.first_cell(d0, starts[k + 1] - 1) + reach > length:
            starts[k + 1 :] = [n0] * (len(starts) - k - 1)
            break
    slabs = []
    for p0, p1 in zip(starts[:-1], starts[1:], strict=True):
        if p1 > p0:
            first = spec.first_cell(d0, p0)
            last = spec.first_cell(d0, p1 - 1) + reach
            slabs.append(
                Slab(
                    positions=range(p0, p1),
                    cells=slice(max(first, 0), min(last, length)),
                    first_id=p0 * grid.inner,
                    n_samples=(p1 - p0) * grid.inner,
                )
            )
    return slabs
