"""Built-in augmentations of training batches, as column permutations of the layout.

A mirrored window is a permutation of its cells, so flipping a batch never rebuilds a
window: each chosen row has its columns permuted. Use them as the ``augment`` batch
option of :meth:`WindowTabularizer.iter_batches`, :func:`xbatcher_tab.partial_fit` and
:class:`xbatcher_tab.WindowDataIter`.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Sequence

import numpy as np

from ._core.checks import describe
from ._core.deprecation import keyword_only

__all__ = ["Flip", "flip"]


def flip_permutation(layout, dim: Hashable) -> np.ndarray:
    """Column order of rows whose windows are mirrored along ``dim``.

    Each variable with ``dim`` in its window has its cells reversed along it (centered
    cells too: their reference, the summaries and the coordinate features stay).

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> ds = xt.datasets.tasmax(time=4, lat=3, lon=4)
    >>> tab = xt.WindowTabularizer(input_dims={"lat": 2, "lon": 3}, stats=["max"]).fit(ds)
    >>> flip_permutation(tab.layout_, "lon").tolist()
    [2, 1, 0, 5, 4, 3, 6]
    """
    if dim not in layout.window.dims:
        raise ValueError(
            f"flip dims must be windowed dims; {dim!r} is not in input_dims "
            f"{list(layout.window.dims)}"
        )
    leads = dict(layout.window.leads)
    if dim in leads:
        raise ValueError(
            f"flip dims cannot include {dim!r}, the target's lead dim: the label lies "
            f"{leads[dim]} step(s) past the window's end along it, so a mirrored window "
            "would pair the past read backwards with the same label; flip along other "
            "windowed dims"
        )
    return layout.columns.flip(dim)


class Flip:
    """Mirror each row's windows along each of ``dims`` with probability ``p`` (one
    draw per row and dim). See :func:`flip`."""

    def __init__(self, tab, dims: Sequence[Hashable], p: float) -> None:
        if isinstance(dims, str) or not isinstance(dims, Sequence) or not dims:
            raise TypeError(f"dims must be a non-empty list of dims, got {describe(dims)}")
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"p must be a probability between 0 and 1, got {p!r}")
        self.tab = tab
        self.dims = tuple(dims)
        self.p = float(p)
        self._orders: tuple | None = None  # (the layout they are of, the orders)

    def orders(self) -> list[np.ndarray]:
        """One column order per dim, from the tabularizer's fitted layout as it is now
        (a refit with other windows gives other orders)."""
        layout = self.tab.layout_
        if self._orders is None or self._orders[0] is not layout:
            self._orders = (layout, [flip_permutation(layout, d) for d in self.dims])
        return self._orders[1]

    def __call__(self, X, y, coords, rng: np.random.Generator):
        X = np.asarray(X)
        for order in self.orders():
            rows = np.flatnonzero(rng.random(len(X)) < self.p)
            if rows.size:
                X[rows] = X[np.ix_(rows, order)]
        return X, y, coords

    def __repr__(self) -> str:
        return f"flip(dims={self.dims}, p={self.p})"


@keyword_only(1, ["dims", "p"])
def flip(tab, *, dims: Sequence[Hashable] = ("lon",), p: float = 0.5) -> Flip:
    """An augmentation that mirrors windows along ``dims`` (each row and dim with
    probability ``p``), e.g. east-west mirrored neighbourhoods.

    Labels and coordinates are kept. Built from the layout of ``tab`` (fitted by the
    time batches are drawn) as column permutations, so its cost is one gather of the
    flipped rows. For an even window size the mirrored window is centered half a cell
    away.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> ds = xt.datasets.tasmax(time=6, lat=5, lon=6)
    >>> tab = xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3},
    ...                            target=xt.Target("tasmax", lead={"time": 1})).fit(ds)
    >>> batches = tab.iter_batches(ds, batch_size=8, augment=xt.augment.flip(tab, p=1.0),
    ...                            random_state=0)
    >>> X = next(iter(batches)).X
    >>> bool((X[:, :3] == tab.transform(ds)[:8, 2::-1]).all())
    True
    """
    return Flip(tab, dims, p)
