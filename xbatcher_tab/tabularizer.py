"""``WindowTabularizer``: sliding windows of gridded data as a scikit-learn table."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._table import (
    Layout,
    Table,
    as_dataset,
    check_layout,
    grid_positions,
    learn_layout,
    select_needed,
)

if TYPE_CHECKING:
    from .batching import Batch

__all__ = ["Tabular", "Target", "WindowTabularizer"]


@dataclass(frozen=True)
class Target:
    """The label of each sample: ``variable`` at the sample's anchor.

    Parameters
    ----------
    variable : str
        Data variable holding the label.
    lead : dict, optional
        Cells ahead of the window per dim, e.g. ``{"time": 1}`` for the day after the
        window's last day. Along such a dim the anchor (and so the label) is the cell
        ``lead`` steps after the window's end; elsewhere it is the window's centre.

    Examples
    --------
    >>> Target("tasmax", lead={"time": 1})
    Target(variable='tasmax', lead={'time': 1})
    """

    variable: Hashable
    lead: Mapping[Hashable, int] | None = None


class Tabular(NamedTuple):
    """What :meth:`WindowTabularizer.tabularize` returns."""

    X: np.ndarray
    y: np.ndarray | None
    coords: pd.DataFrame


class WindowTabularizer(TransformerMixin, BaseEstimator):
    """Cut every sliding window of gridded data into one row of features.

    Dims named in ``input_dims`` are windowed; every other dim of the data is a sample
    dim (each index its own sample). Samples are enumerated in C order over the dims of
    the first feature variable (then new dims of the other variables and the target,
    then the data's other dims), so the order does not depend on how a store lists
    its variables; windows that do not fit are dropped.

    Parameters
    ----------
    input_dims : dict
        Window size per dim; its order is the feature order, e.g.
        ``{"lat": 9, "lon": 9, "time": 9}``.
    input_overlap : dict, optional
        Overlap per input dim; the stride is ``size - overlap`` (default: no overlap).
    variables : list of str, optional
        Feature variables, in order (default: every data variable). A variable lacking
        some window dims contributes the cells of the dims it has; one lacking a sample
        dim is repeated along it.
    target : Target, optional
        The label. Along ``target.lead`` dims the anchor is the label cell
        ``start + size - 1 + lead``; samples whose label falls outside the data are
        dropped. Elsewhere the anchor is the window's centre ``start + size // 2``.
    dropna : bool, default False
        Drop samples with NaN in any feature or in the label.
    dtype : str or numpy dtype, default "float32"
        dtype of X (y keeps the target variable's dtype).

    Attributes
    ----------
    layout_ : Layout
        Variables, dims, window and label learnt by ``fit``.
    variables_ : list
        Feature variables.
    dims_ : tuple
        The data's dims, in the order samples are enumerated (outermost first).
    n_features_out_ : int
        Number of features.
    feature_names_out_ : ndarray of str
        ``var(dim±offset,...)`` per feature, offsets from the anchor.

    Examples
    --------
    >>> import xbatcher_tab as xt
    >>> ds = xt.datasets.tasmax(time=6, lat=5, lon=4)
    >>> tab = xt.WindowTabularizer(
    ...     input_dims={"lat": 3, "lon": 3, "time": 2},
    ...     input_overlap={"lat": 2, "lon": 2, "time": 1},
    ...     target=xt.Target("tasmax", lead={"time": 1}),
    ... )
    >>> X, y, coords = tab.tabularize(ds)
    >>> X.shape, y.shape
    ((24, 18), (24,))
    >>> tab.get_feature_names_out()[:2].tolist()
    ['tasmax(lat-1,lon-1,time-2)', 'tasmax(lat-1,lon-1,time-1)']
    >>> list(coords.columns)
    ['time', 'lat', 'lon']
    """

    def __init__(
        self,
        input_dims: Mapping[Hashable, int],
        input_overlap: Mapping[Hashable, int] | None = None,
        variables: Sequence[Hashable] | None = None,
        target: Target | None = None,
        dropna: bool = False,
        dtype: str = "float32",
    ) -> None:
        self.input_dims = input_dims
        self.input_overlap = input_overlap
        self.variables = variables
        self.target = target
        self.dropna = dropna
        self.dtype = dtype

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = True
        tags.target_tags.required = False
        return tags

    # -- fitting -----------------------------------------------------------------------

    def fit(self, X: xr.Dataset | xr.DataArray, y: object = None) -> WindowTabularizer:
        """Learn the layout (variables, their dims, window, label, dtype) from ``X``.

        ``y`` is ignored; it is accepted for Pipeline compatibility.
        """
        ds = as_dataset(X)
        if not isinstance(self.dropna, bool | np.bool_):
            raise TypeError(f"dropna must be True or False, got {self.dropna!r}")
        layout = learn_layout(
            ds, self.input_dims, self.input_overlap, self.variables, self.target, self.dtype
        )
        if layout.target in layout.variables and not layout.lead:
            warnings.warn(
                f"the target variable {layout.target!r} is also a feature and the target has "
                "no lead: each label is one of its own sample's features. Give "
                "Target(..., lead={'time': 1}) to predict ahead.",
                UserWarning,
                stacklevel=2,
            )
        self.layout_: Layout = layout
        self.variables_ = list(layout.variables)
        self.dims_ = layout.dims
        self.feature_names_out_ = np.asarray(layout.feature_names(), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the features: ``var(dim±offset,...)``, offsets from the anchor.

        The names are unique and valid for xgboost (no ``[``, ``]`` or ``<``).
        """
        check_is_fitted(self, "layout_")
        return self.feature_names_out_.copy()

    # -- cutting tables ----------------------------------------------------------------

    def _table(self, X) -> Table:
        check_is_fitted(self, "layout_")
        ds = as_dataset(X)
        check_layout(self.layout_, ds)  # metadata only: fail before reading anything
        # dask-backed data: compute only the variables the table needs
        return Table(self.layout_, select_needed(self.layout_, ds).compute())

    def transform(self, X: xr.Dataset | xr.DataArray) -> np.ndarray:
        """The feature table, ``(n_samples, n_features)``."""
        table = self._table(X)
        return table.X(table.valid_ids(self.dropna))

    def target_values(self, X: xr.Dataset | xr.DataArray) -> np.ndarray:
        """The label of each sample, ``(n_samples,)``, in the rows' order."""
        table = self._table(X)
        return table.y(table.valid_ids(self.dropna))

    def sample_coords(self, X: xr.Dataset | xr.DataArray) -> pd.DataFrame:
        """One row per sample, in the rows' order: the anchor's coordinate label per dim.

        The index (``sample``) is the sample's id in the full enumeration, before
        ``dropna``.
        """
        table = self._table(X)
        return table.coords(table.valid_ids(self.dropna))

    def tabularize(self, X: xr.Dataset | xr.DataArray) -> Tabular:
        """X, y (None without a target) and the coordinate frame, in one pass.

        Fits the tabularizer first if it is not fitted yet.
        """
        if not hasattr(self, "layout_"):
            self.fit(X)
        table = self._table(X)
        return Tabular(*table.rows(table.valid_ids(self.dropna)))

    def iter_batches(
        self,
        X: xr.Dataset | xr.DataArray,
        batch_size: int = 65536,
        shuffle: bool | str = False,
        random_state: int | np.random.Generator | None = None,
        drop_last: bool = False,
        start: int = 0,
        shuffle_buffer: int = 4,
    ) -> Iterator[Batch]:
        """Yield the table in batches of ``batch_size`` samples: ``(X, y, coords)``.

        Samples are enumerated over the whole data first, then grouped, so windows
        overlap across batch edges and every sample comes exactly once per epoch.
        Without shuffle the batches concatenate to :meth:`tabularize`. A batch is
        gathered only when asked for: memory holds the source slabs in flight and the
        batches, never the table.

        Parameters
        ----------
        X : Dataset or DataArray
            numpy-backed (one in-memory source) or dask-backed (read in slabs: the
            source chunks along the outermost dim, plus the window's halo).
        batch_size : int
            Samples per batch; the last batch is partial unless ``drop_last``.
        shuffle : bool or "full"
            ``True`` permutes the samples: all of them for numpy-backed data; for
            dask-backed data, the slabs are visited in a random order
            ``shuffle_buffer`` at a time and the samples of those slabs permuted
            (each chunk read about once per epoch). ``"full"`` loads the whole source
            and permutes every sample.
        random_state : int or numpy Generator, optional
            Seed of the shuffle: the same seed gives the same epoch.
        drop_last : bool
            Drop the last, partial batch.
        start : int
            Index of the first batch to yield, to resume an interrupted epoch (with the
            same ``random_state`` the remaining batches are those the full epoch gives).
        shuffle_buffer : int
            Slabs shuffled together for dask-backed data.

        Examples
        --------
        >>> import xbatcher_tab as xt
        >>> ds = xt.datasets.tasmax(time=6, lat=4, lon=4)
        >>> tab = xt.WindowTabularizer(input_dims={"time": 3}, input_overlap={"time": 2},
        ...                            target=xt.Target("tasmax", lead={"time": 1}))
        >>> [b.X.shape for b in tab.fit(ds).iter_batches(ds, batch_size=20)]
        [(20, 3), (20, 3), (8, 3)]
        """
        from .batching import iter_batches

        check_is_fitted(self, "layout_")
        return iter_batches(
            self, X, batch_size, shuffle, random_state, drop_last, start, shuffle_buffer
        )

    def to_dask(self, X: xr.Dataset | xr.DataArray):
        """The table as lazy dask objects: ``X, y, coords``.

        ``X`` (``(n_samples, n_features)``, one chunk along features) and ``y`` are
        dask arrays chunked by rows only: one block per source chunk along the outermost
        dim (numpy-backed data is cut into blocks of about 128 MiB of X), each cut from
        that chunk plus the window's halo by the same kernel as :meth:`tabularize`.
        Building them computes nothing. ``coords`` is a pandas DataFrame (a dask one
        with ``dropna``, whose block sizes are then unknown until computed); rows are
        in the order of :meth:`tabularize`.

        Examples
        --------
        >>> import xbatcher_tab as xt
        >>> ds = xt.datasets.tasmax(time=12, lat=6, lon=8, chunks={"time": 4})
        >>> tab = xt.WindowTabularizer(input_dims={"time": 3}, input_overlap={"time": 2},
        ...                            target=xt.Target("tasmax", lead={"time": 1})).fit(ds)
        >>> X, y, coords = tab.to_dask(ds)
        >>> X.chunks
        ((192, 192, 48), (3,))
        >>> bool((X.compute() == tab.transform(ds)).all())
        True
        """
        from .dask import to_dask

        check_is_fitted(self, "layout_")
        return to_dask(self, X)

    def _table_grid(self, X):
        """The sample grid of ``X`` without reading its values."""
        ds = as_dataset(X)
        return Table.grid_for(self.layout_, {d: int(ds.sizes[d]) for d in self.layout_.dims})

    def to_grid(
        self,
        pred: object,
        coords: pd.DataFrame,
        like: xr.Dataset | xr.DataArray | None = None,
        name: str = "prediction",
    ) -> xr.DataArray:
        """Put one value per sample back on the map, at the sample's anchor.

        Parameters
        ----------
        pred : array-like, shape (n_samples,)
            Values in the rows' order of ``coords``.
        coords : DataFrame
            The coordinate frame of those samples (``sample_coords`` or ``tabularize``).
        like : Dataset or DataArray, optional
            Data whose full grid to use; by default the grid spanned by the labels in
            ``coords``.
        name : str
            Name of the returned DataArray.

        Returns
        -------
        xarray.DataArray
            Over the data's dims; NaN where no sample is anchored.

        Examples
        --------
        >>> import xbatcher_tab as xt
        >>> ds = xt.datasets.tasmax(time=5, lat=4, lon=4)
        >>> tab = xt.WindowTabularizer(input_dims={"lat": 3, "lon": 3},
        ...                            input_overlap={"lat": 2, "lon": 2})
        >>> X, _, coords = tab.tabularize(ds)
        >>> grid = tab.to_grid(X.mean(axis=1), coords, like=ds)
        >>> grid.shape, int(grid.notnull().sum())   # interior cells only
        ((5, 4, 4), 20)
        """
        check_is_fitted(self, "layout_")
        values = np.asarray(pred)
        if values.ndim != 1 or len(values) != len(coords):
            raise ValueError(
                f"pred must hold one value per row of coords ({len(coords)}), "
                f"got shape {values.shape}"
            )
        missing = [d for d in self.dims_ if d not in coords.columns]
        if missing:
            raise ValueError(f"coords lacks the columns {missing}; pass sample_coords(...)")
        grid = {}
        for d in self.dims_:
            if like is not None:
                if d not in like.dims:
                    raise ValueError(f"like has no dimension {d!r}; its dims are {list(like.dims)}")
                grid[d] = (
                    np.asarray(like[d].values) if d in like.coords else np.arange(like.sizes[d])
                )
            else:
                grid[d] = np.sort(pd.unique(coords[d].to_numpy()))
        index = tuple(grid_positions(grid[d], coords[d], d) for d in self.dims_)
        dtype = np.result_type(values.dtype, np.float32)
        out = np.full(tuple(len(grid[d]) for d in self.dims_), np.nan, dtype=dtype)
        out[index] = values
        has_coord = {d: grid[d] for d in self.dims_ if like is None or d in like.coords}
        return xr.DataArray(out, dims=self.dims_, coords=has_coord, name=name)
