"""Leakage-free splits of window tables and of the data they are cut from.

Overlapping windows make naive splits leak: a test sample's window shares days with
training samples' windows. :class:`WindowBlockSplit` holds out contiguous blocks of
samples along a dim and drops every training sample whose cells (its window and its
label) reach into the cells the test samples use. It splits either a table's rows or,
to tune the window itself with ``GridSearchCV(xt.WindowModel(...))``, the steps of the
data given as :class:`WindowData`, whose selections are cut into contiguous pieces so
that no window joins steps across a held-out block or a gap.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.utils.validation import check_is_fitted

from ._adapters.scoring import labelled_score
from ._core.coords import label_positions
from ._core.data import as_dataset
from ._core.deprecation import keyword_only
from ._core.params import Integer, validate_params
from ._core.window import WindowSpec

__all__ = ["WindowBlockSplit", "WindowData", "window_scorer"]


def sample_spans(
    window: WindowSpec, positions: np.ndarray, dim: Hashable
) -> tuple[np.ndarray, np.ndarray]:
    """First and last cell along ``dim`` that each sample reads (window and label),
    from its anchor cell ``positions``.

    Examples
    --------
    >>> from xbatcher_tab._core.window import make_window_spec
    >>> window = make_window_spec({"time": 3}, None, {"time": 10}, lead={"time": 2})
    >>> lo, hi = sample_spans(window, np.array([4, 5]), "time")
    >>> lo.tolist(), hi.tolist()
    ([0, 1], [4, 5])
    """
    if window.boundary(dim) == "periodic":
        raise ValueError(
            f"cannot split along {dim!r}: it is periodic, so windows near one end read "
            "cells of the other and no gap keeps the folds apart"
        )
    positions = np.asarray(positions, dtype=np.int64)
    first, last = window.span(dim)
    return positions + first, positions + last


def check_dim(dim: Hashable, data: xr.Dataset) -> Hashable:
    """``dim``, a dimension of ``data``."""
    if dim not in data.dims:
        raise ValueError(
            f"dim {dim!r} is not a dimension of the data; its dims are {list(data.dims)}"
        )
    return dim


def check_distinct_steps(steps: np.ndarray) -> np.ndarray:
    """``steps`` of a selection, none repeated (a window cannot be cut twice)."""
    if len(np.unique(steps)) != len(steps):
        raise ValueError("a WindowData selection must not repeat a step")
    return steps


class WindowData:
    """Gridded data as a sequence of steps along ``dim``, for scikit-learn's splitters.

    ``len()`` is the number of steps; indexing with integer or boolean arrays selects
    steps (as ``GridSearchCV`` and ``cross_val_score`` do with the folds of a ``cv``).
    :meth:`segments` gives the selected steps as contiguous pieces of the data, which
    :class:`xbatcher_tab.WindowModel` tabularizes one by one, so no window joins steps
    across a held-out block or a gap.

    Parameters
    ----------
    data : Dataset or DataArray
    dim : str, default "time"
        The dim whose steps are the samples of the splitters.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> ds = xt.datasets.tasmax(time=10, lat=3, lon=4)
    >>> data = WindowData(ds, dim="time")
    >>> len(data), [dict(p.sizes)["time"] for p in data[np.r_[0:3, 6:10]].segments()]
    (10, [3, 4])
    """

    @keyword_only(2, ["dim", "_steps"])
    def __init__(
        self, data: xr.Dataset | xr.DataArray, *, dim: Hashable = "time", _steps=None
    ) -> None:
        self.data = as_dataset(data, "data")
        self.dim = check_dim(dim, self.data)
        n = self.data.sizes[dim]
        self.steps = np.arange(n) if _steps is None else np.asarray(_steps, dtype=np.int64)

    @property
    def shape(self) -> tuple[int]:
        return (len(self.steps),)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, key) -> WindowData:
        if isinstance(key, tuple):  # scikit-learn indexes arrays as ``X[key, ...]``
            key = key[0]
        picked = check_distinct_steps(np.atleast_1d(self.steps[key]))
        return WindowData(self.data, dim=self.dim, _steps=np.sort(picked))

    def segments(self) -> list[xr.Dataset]:
        """The selected steps as contiguous pieces of the data, in order."""
        if not len(self.steps):
            return []
        breaks = np.flatnonzero(np.diff(self.steps) != 1) + 1
        return [
            self.data.isel({self.dim: slice(int(run[0]), int(run[-1]) + 1)})
            for run in np.split(self.steps, breaks)
        ]

    def __repr__(self) -> str:
        return (
            f"WindowData(dim={self.dim!r}, steps={len(self)} of {self.data.sizes[self.dim]}, "
            f"pieces={len(self.segments())})"
        )


def clear_of(first: np.ndarray, last: np.ndarray, test: np.ndarray) -> np.ndarray:
    """The samples (or steps) whose span ``first .. last`` stays clear of the spans of
    ``test``: the training set of a fold, the gap around its test block left out.

    Examples
    --------
    >>> first, last = np.arange(6), np.arange(6) + 1  # each reads two steps
    >>> clear_of(first, last, np.array([2])).tolist()
    [0, 4, 5]
    """
    lo, hi = first[test].min(), last[test].max()
    return np.flatnonzero((last < lo) | (first > hi))


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
        coordinate frame's labels into cell positions. Needed when ``groups`` is a
        coordinate frame and the data has a coordinate along ``dim`` (its labels are
        not positions, even when they are integers); without it ``groups`` gives
        positions (an array of them, or a frame of data without a coordinate).

    Notes
    -----
    ``split(X, y, groups)`` takes the coordinate frame (``tab.sample_coords(ds)``) or
    an array of anchor positions (or labels, with ``coord``) along ``dim`` as
    ``groups``, so it works with
    ``cross_val_score(model, X, y, groups=coords, cv=WindowBlockSplit(tab, ...))``.
    Given a :class:`WindowData` as ``X`` it splits the data's steps instead (for
    ``GridSearchCV(xt.WindowModel(...), ...)``); the gap then follows ``tab``'s window,
    fitted or not, so give it the widest window the search tries. A fold that the gap
    leaves without any training window raises a ValueError naming the gap.

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

    @keyword_only(2, ["n_splits", "dim", "coord"])
    @validate_params({"n_splits": Integer(2)})
    def __init__(self, tab, *, n_splits: int = 5, dim: Hashable = "time", coord=None) -> None:
        self.tab = tab
        self.n_splits = n_splits
        self.dim = dim
        self.coord = coord

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return self.n_splits

    def _check_groups(self, groups) -> np.ndarray:
        """The anchor positions along ``dim`` that ``groups`` gives (a coordinate frame,
        or anchor labels), mapped to cells by ``coord`` unless they are cells."""
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
            layout = getattr(self.tab, "layout_", None)
            if self.coord is None and layout is not None and self.dim in layout.directions:
                raise ValueError(
                    f"groups holds the anchors' labels along {self.dim!r}, which has a "
                    f"coordinate: pass coord=ds[{self.dim!r}] to turn them into positions "
                    "(labels are not positions, even integer ones)"
                )
        else:
            labels = np.asarray(groups)
        if self.coord is None:
            if labels.dtype.kind not in "iu":
                raise ValueError(
                    f"the labels along {self.dim!r} are not integer positions: pass "
                    f"coord=ds[{self.dim!r}] to map them to positions"
                )
            return labels.astype(np.int64)
        values = self.coord.values if isinstance(self.coord, xr.DataArray) else self.coord
        return label_positions(values, labels, self.dim, "coord")

    def split(self, X=None, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(train, test)`` indices for each fold: rows of a table (positions
        from ``groups``), or steps of a :class:`WindowData` ``X``.

        Raises a ValueError naming the gap when a fold would have no training sample.
        """
        if isinstance(X, WindowData):
            yield from self._split_steps(X)
            return
        positions = self._check_groups(groups)
        blocks = self._check_n_splits(np.unique(positions), "distinct anchor positions")
        window = self._window()
        first, last = sample_spans(window, positions, self.dim)
        for k, block in enumerate(np.array_split(blocks, self.n_splits)):
            test = np.flatnonzero((positions >= block[0]) & (positions <= block[-1]))
            train = clear_of(first, last, test)
            if not train.size:
                raise self._empty_fold(k, block[0], block[-1], window)
            yield train, test

    def _split_steps(self, data: WindowData) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Folds over the steps of ``data``: each block of steps is the test set once;
        training steps are those whose windows stay clear of the block's (the gap)."""
        if data.dim != self.dim:
            raise ValueError(
                f"WindowData is along {data.dim!r} but the split is along {self.dim!r}"
            )
        self._check_n_splits(data.steps, "steps")
        window = self._window(data.data)
        steps = data.steps
        first, last = sample_spans(window, steps, self.dim)
        for k, test in enumerate(np.array_split(np.arange(len(steps)), self.n_splits)):
            train = clear_of(first, last, test)
            runs = np.split(steps[train], np.flatnonzero(np.diff(steps[train]) != 1) + 1)
            if not sum(window.count(self.dim, len(run)) for run in runs if len(run)):
                raise self._empty_fold(k, steps[test[0]], steps[test[-1]], window)
            yield train, test

    def _check_n_splits(self, blocks: np.ndarray, what: str) -> np.ndarray:
        """``blocks`` (what the folds cut), if there are at least ``n_splits`` of them."""
        if len(blocks) < self.n_splits:
            raise ValueError(
                f"n_splits={self.n_splits} is more than the {len(blocks)} {what}"
                + (f" along {self.dim!r}" if what != "steps" else "")
            )
        return blocks

    def _window(self, data: xr.Dataset | None = None) -> WindowSpec:
        """The window whose spans set the gap: the fitted tabularizer's, or (unfitted,
        with ``data``) the one its parameters give on that data."""
        tab = self.tab
        if hasattr(tab, "layout_") or data is None:
            check_is_fitted(tab, "layout_")
            return tab.layout_.window
        return tab.layout_of(data).window

    def _empty_fold(self, k: int, lo: int, hi: int, window: WindowSpec) -> ValueError:
        reach = window.reach(self.dim)
        return ValueError(
            f"fold {k} has no training sample: around its test block (positions {lo} to "
            f"{hi} along {self.dim!r}) the gap of {reach - 1} steps on each side (so that no "
            f"training window and label, {reach} steps, touches a test window) leaves no "
            "training window; use fewer splits, a smaller window or more data"
        )


def window_scorer(scoring: object):
    """A scorer of :class:`~xbatcher_tab.WindowModel` for ``GridSearchCV`` and
    ``cross_validate``: each fold's labelled samples scored by scikit-learn's
    ``scoring`` (a name such as ``"neg_root_mean_squared_error"``, a scorer, or a list
    or dict of them for several metrics), weighted by the tabularizer's ``weight``.

    scikit-learn's scorer names need the true labels as ``y``; gridded data keeps them
    inside, so a name given straight to ``GridSearchCV(xt.WindowModel(...), ...)``
    scores every fold NaN. Wrap it: ``scoring=window_scorer("neg_root_mean_squared_error")``.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> from sklearn.linear_model import Ridge
    >>> ds = xt.datasets.tasmax(time=12, lat=6, lon=8)
    >>> tab = xt.WindowTabularizer(input_dims={"time": 2},
    ...                            target=xt.Target("tasmax", lead={"time": 1}))
    >>> model = xt.WindowModel(Ridge(), tab).fit(ds)
    >>> rmse = window_scorer("neg_root_mean_squared_error")
    >>> bool(rmse(model, ds) < 0)
    True
    """
    from sklearn.metrics import get_scorer

    if isinstance(scoring, Mapping):
        return {name: window_scorer(s) for name, s in scoring.items()}
    if isinstance(scoring, list | tuple | set):
        return {str(s): window_scorer(s) for s in scoring}
    inner = get_scorer(scoring) if isinstance(scoring, str) else scoring
    if inner is None or not callable(inner):
        raise TypeError(
            f"scoring must be a scikit-learn scorer name, a scorer, or a list or dict of them, "
            f"got {scoring!r}"
        )

    def score(estimator, X, y=None) -> float:
        return labelled_score(estimator.estimator_, estimator.tab_, X, inner)

    return score
