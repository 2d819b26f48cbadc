"""Leakage-free splits of window tables.

Overlapping windows make naive splits leak: a test sample's window shares days with
training samples' windows. :class:`WindowBlockSplit` holds out contiguous blocks of
samples along a dim and drops every training sample whose cells (its window and its
label) reach into the cells the test samples use.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.utils.validation import check_is_fitted

from ._spec import WindowSpec, check_int

__all__ = ["WindowBlockSplit", "sample_spans"]


def sample_spans(
    window: WindowSpec, positions: np.ndarray, dim: Hashable
) -> tuple[np.ndarray, np.ndarray]:
    """First and last cell along ``dim`` that each sample reads (window and label),
    from its anchor cell ``positions``.

    Examples
    --------
    >>> from xbatcher_tab._spec import make_window_spec
    >>> window = make_window_spec({"time": 3}, None, {"time": 10}, lead={"time": 2})
    >>> lo, hi = sample_spans(window, np.array([4, 5]), "time")
    >>> lo.tolist(), hi.tolist()
    ([0, 1], [4, 5])
    """
    positions = np.asarray(positions, dtype=np.int64)
    first, last = window.span(dim)
    return positions + first, positions + last


class WindowBlockSplit:
    """K-fold over contiguous blocks of a dim, with a gap that stops window leakage.

    The samples' anchors along ``dim`` are cut into ``n_splits`` contiguous blocks of
    positions; each block is the test set once. Training samples are all the others
    except those whose cells (window and label) overlap the cells the test samples
    read, so no training window shares a step of ``dim`` with any test window's span
    (the gap is the window's extent plus the lead on each side).

    Parameters
    ----------
    tab : WindowTabularizer
        The fitted tabularizer that cut the table (its layout gives the spans).
    n_splits : int, default 5
        Number of folds.
    dim : str, default "time"
        The dim to split along.
    coord : array-like or DataArray, optional
        The full coordinate of ``dim`` in the data (e.g. ``ds["time"]``), to turn the
        coordinate frame's labels into cell positions. Without it, labels must be
        integer positions.

    Notes
    -----
    ``split(X, y, groups)`` takes the coordinate frame (``tab.sample_coords(ds)``) or
    an array of anchor labels along ``dim`` as ``groups``, so it works with
    ``cross_val_score(model, X, y, groups=coords, cv=WindowBlockSplit(tab, ...))``.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> ds = xt.datasets.tasmax(time=30, lat=4, lon=4)
    >>> tab = xt.WindowTabularizer(input_dims={"time": 5}, input_overlap={"time": 4},
    ...                            target=xt.Target("tasmax", lead={"time": 1}))
    >>> X, y, coords = tab.tabularize(ds)
    >>> cv = WindowBlockSplit(tab, n_splits=3, coord=ds["time"])
    >>> [(len(tr), len(te)) for tr, te in cv.split(X, y, groups=coords)]
    [(176, 144), (112, 128), (192, 128)]
    """

    def __init__(self, tab, n_splits: int = 5, dim: Hashable = "time", coord=None) -> None:
        self.tab = tab
        self.n_splits = check_int("n_splits", n_splits, 2)
        self.dim = dim
        self.coord = coord

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def _positions(self, groups) -> np.ndarray:
        if groups is None:
            raise ValueError(
                "WindowBlockSplit needs the samples' positions: pass groups=coords "
                "(tab.sample_coords(ds)) or an array of anchor labels along "
                f"{self.dim!r}"
            )
        if isinstance(groups, pd.DataFrame):
            if self.dim not in groups.columns:
                raise ValueError(
                    f"groups has no column {self.dim!r}; its columns are {list(groups.columns)}"
                )
            labels = groups[self.dim].to_numpy()
        else:
            labels = np.asarray(groups)
        if self.coord is None:
            if labels.dtype.kind not in "iu":
                raise ValueError(
                    f"the labels along {self.dim!r} are not integer positions: pass "
                    f"coord=ds[{self.dim!r}] to map them to positions"
                )
            return labels.astype(np.int64)
        values = np.asarray(
            self.coord.values if isinstance(self.coord, xr.DataArray) else self.coord
        )
        found = pd.Index(values).get_indexer(labels)
        if (found < 0).any():
            raise ValueError(f"some labels along {self.dim!r} are not in coord")
        return found.astype(np.int64)

    def split(self, X=None, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` row indices for each fold."""
        positions = self._positions(groups)
        blocks = np.unique(positions)
        if len(blocks) < self.n_splits:
            raise ValueError(
                f"n_splits={self.n_splits} is more than the {len(blocks)} distinct anchor "
                f"positions along {self.dim!r}"
            )
        check_is_fitted(self.tab, "layout_")
        first, last = sample_spans(self.tab.layout_.window, positions, self.dim)
        for block in np.array_split(blocks, self.n_splits):
            test = np.flatnonzero((positions >= block[0]) & (positions <= block[-1]))
            lo, hi = first[test].min(), last[test].max()
            train = np.flatnonzero((last < lo) | (first > hi))
            yield train, test
