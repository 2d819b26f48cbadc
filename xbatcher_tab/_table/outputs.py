"""What a fitted tabularizer gives, besides ``transform``: the table whole, its parts,
in batches, lazily, and values back on the grid.

:class:`TableOutputs` holds the methods of :class:`~xbatcher_tab.WindowTabularizer`
that cut tables with its fitted layout (``get_layout()``): each delegates to the module
that does the work (:mod:`~xbatcher_tab._table.slabs`, :mod:`~xbatcher_tab.batching`,
:mod:`~xbatcher_tab.dask`, :mod:`~xbatcher_tab._core.coords`, :mod:`~xbatcher_tab.weights`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import xarray as xr
from sklearn.utils.validation import check_is_fitted

from .._core.batch_options import BatchOptions, Sample, with_batch_options
from .._core.coords import MapLayout, check_frame
from .._core.data import as_dataset
from .._core.params import Seed
from .._core.seeds import drawn_seed
from .._fit.weights import sample_weight
from .batches import iter_batches
from .blocks import to_dask
from .slabs import load_table
from .table import Table, Tabular

__all__ = ["TableOutputs"]


class TableOutputs:
    """The tables of a fitted tabularizer (a mixin of ``WindowTabularizer``: it needs
    ``get_layout()``, ``layout_``, ``dims_`` and ``feature_names_out_``)."""

    def tabularize(self, X: xr.Dataset | xr.DataArray) -> Tabular:
        """X, y (None without a target) and the coordinate frame, in one pass.

        Fits the tabularizer first if it is not fitted yet. With
        ``set_output(transform="pandas")``, X is a DataFrame and y a Series, indexed
        by the samples' ids like ``coords``.
        """
        if not hasattr(self, "layout_"):
            self.fit(X)
        table = self._table(X)
        return self._output(table.rows(table.valid_ids()))

    def target_values(self, X: xr.Dataset | xr.DataArray) -> np.ndarray:
        """The label of each sample, ``(n_samples,)``, in the rows' order."""
        table = self._table(X)
        return table.y(table.valid_ids())

    def sample_coords(self, X: xr.Dataset | xr.DataArray) -> pd.DataFrame:
        """One row per sample, in the rows' order: the anchor's coordinate label per dim.

        The index (``sample``) is the sample's id in the full enumeration, before
        ``dropna``.
        """
        table = self._table(X)
        return table.coords(table.valid_ids())

    def sample_weight(self, coords: pd.DataFrame) -> np.ndarray:
        """The weight of each sample of a coordinate frame (the ``coords`` of a table or
        a batch), in its order: ``X, y, coords = batch; w = tab.sample_weight(coords)``.
        For the dask frame of :meth:`to_dask`, a dask Series in its blocks (what
        ``xgboost.dask`` takes as ``weight=``).

        Examples
        --------
        >>> import xbatcher_tab as xt
        >>> ds = xt.datasets.tasmax(time=3, lat=4, lon=4)
        >>> tab = xt.WindowTabularizer(input_dims={"lon": 2}, weight="coslat")
        >>> X, _, coords = tab.tabularize(ds)
        >>> w = tab.sample_weight(coords)
        >>> bool((w == np.cos(np.deg2rad(coords["lat"]))).all())
        True
        """
        check_is_fitted(self, "layout_")
        if self.layout_.weight is None:
            raise ValueError("the tabularizer has no weight: pass weight='coslat' or a DataArray")
        if hasattr(coords, "map_partitions"):  # to_dask's dask frame: lazy, by block
            meta = pd.Series(dtype=np.float64, name="weight")
            return coords.map_partitions(_weights_of, self.layout_.weight, meta=meta)
        return sample_weight(self.layout_.weight, coords)

    def outlier_cells(self, X: xr.Dataset | xr.DataArray) -> xr.Dataset:
        """Which cells of ``X`` lie outside the fitted outlier bounds: a boolean
        DataArray per variable with a rule, on ``X``'s grid (lazy for dask-backed
        data); ``.sum("time")`` counts them per cell."""
        check_is_fitted(self, "layout_")
        if not self.layout_.outliers:
            raise ValueError("the tabularizer has no outlier rules: pass outliers={...}")
        ds = as_dataset(X)
        return xr.Dataset(
            {v: (ds[v] < lo) | (ds[v] > hi) for v, (lo, hi) in self.layout_.outliers.items()}
        )

    def feature_map(self, values: object) -> xr.Dataset:
        """Per-feature values back on the window: which neighbours and lags a model
        uses, say.

        ``values``: one per feature (an array of ``n_features_out_``, or of several
        outputs by ``n_features_out_``), a dict by feature name (xgboost's
        ``get_score()``; missing names count 0), a fitted model with
        ``feature_importances_`` or ``coef_``, or a permutation-importance result
        (``importances_mean``). Returns one variable per feature variable over offset
        dims named after the window dims (``lat_offset``, ``time_offset``, ...; offsets
        from the anchor as coordinates), and each feature with no window position
        (references, summaries, coordinate features) as a variable of its own.

        Examples
        --------
        >>> import xbatcher_tab as xt
        >>> from sklearn.linear_model import Ridge
        >>> ds = xt.datasets.tasmax(time=10, lat=6, lon=7)
        >>> tab = xt.WindowTabularizer(input_dims={"lat": 3, "time": 2},
        ...                            target=xt.Target("tasmax", lead={"time": 1}))
        >>> X, y, _ = tab.tabularize(ds)
        >>> weights = tab.feature_map(Ridge().fit(X, y))
        >>> dict(weights.tasmax.sizes)
        {'lat_offset': 3, 'time_offset': 2}
        """
        check_is_fitted(self, "layout_")
        return self.layout_.columns.feature_map(_per_feature(values, list(self.feature_names_out_)))

    def count_samples(self, X: xr.Dataset | xr.DataArray) -> int:
        """How many samples ``X`` gives (before ``dropna``), from its sizes alone.

        Reads no values, so it is cheap on a store of any size: use it to size
        progress bars, batches or output files.

        Examples
        --------
        >>> import xbatcher_tab as xt
        >>> ds = xt.datasets.tasmax(time=10, lat=4, lon=5)
        >>> tab = xt.WindowTabularizer(input_dims={"time": 3},
        ...                            target=xt.Target("tasmax", lead={"time": 1})).fit(ds)
        >>> tab.count_samples(ds), len(tab.transform(ds))
        (60, 60)
        """
        check_is_fitted(self, "layout_")
        sizes = as_dataset(X).sizes
        missing = [d for d in self.layout_.dims if d not in sizes]
        if missing:
            raise ValueError(
                f"the data lacks the dims {missing} the tabularizer was fitted on; it has "
                f"{list(sizes)}"
            )
        return self.layout_.grid(sizes).n_samples

    @with_batch_options(8)
    def iter_batches(self, X: xr.Dataset | xr.DataArray, **options: Any) -> Iterator[Tabular]:
        """Yield the table in batches: ``(X, y, coords)`` rows of ``batch_size`` samples.

        Samples are enumerated over the whole data first, then grouped, so windows
        overlap across batch edges and every sample comes exactly once per epoch.
        Without shuffle the batches concatenate to :meth:`tabularize`. A batch is
        gathered only when asked for: memory holds the source slabs in flight and the
        batches, never the table. The options are checked when called; they are
        keyword only, the same for :func:`xbatcher_tab.partial_fit` and
        :class:`xbatcher_tab.WindowDataIter`.

        Parameters
        ----------
        X : Dataset or DataArray
            numpy-backed (one in-memory source) or dask-backed (read in slabs: the
            source chunks along the outermost dim, plus the window's halo).
        {batch_options}

        Examples
        --------
        >>> import xbatcher_tab as xt
        >>> ds = xt.datasets.tasmax(time=6, lat=4, lon=4)
        >>> tab = xt.WindowTabularizer(input_dims={{"time": 3}}, input_overlap={{"time": 2}},
        ...                            target=xt.Target("tasmax", lead={{"time": 1}}))
        >>> [b.X.shape for b in tab.fit(ds).iter_batches(ds, batch_size=20)]
        [(20, 3), (20, 3), (8, 3)]
        """
        opts = BatchOptions.from_kwargs("iter_batches", options)
        batches = iter_batches(self.get_layout(), X, opts, runtime=self._runtime())
        return map(self._output, batches) if self._pandas_output() else batches

    def to_dask(
        self,
        X: xr.Dataset | xr.DataArray,
        *,
        sample: float | int | None = None,
        random_state: object = None,
    ):
        """The table as lazy dask objects: ``X, y, coords``.

        ``X`` (``(n_samples, n_features)``, one chunk along features) and ``y`` are
        dask arrays chunked by rows only: one block per source chunk along the outermost
        dim (numpy-backed data is cut into blocks of about 128 MiB of X), each cut from
        that chunk plus the window's halo by the same kernel as :meth:`tabularize`.
        Building them computes nothing. ``coords`` is a pandas DataFrame (a dask one
        with ``dropna``, whose block sizes are then unknown until computed); rows are
        in the order of :meth:`tabularize`. ``sample``: only a seeded subset of the
        samples (a fraction in (0, 1] or a count, drawn by ``random_state``: those
        ``iter_batches`` draws for the same seed), each block its slab's (under
        ``dropna`` or ``where``, each slab's samples are counted first: one read).

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
        sample = Sample().check("sample", sample)
        seed = drawn_seed(Seed().check("random_state", random_state), sample is not None)
        return to_dask(self.get_layout(), X, runtime=self._runtime(), sample=sample, seed=seed)

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
            Data whose full grid to use, extended along lead dims to forecasts'
            anchors past its end; by default the grid spanned by the labels in
            ``coords``.
        name : str
            Name of the returned DataArray.

        Returns
        -------
        xarray.DataArray
            Over the data's dims, with the target variable's attributes; NaN where no
            sample is anchored.

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
        check_frame(coords, self.dims_, "to_grid")
        if like is not None and not isinstance(like, xr.Dataset | xr.DataArray):
            raise TypeError(
                f"like must be the data as a Dataset or DataArray (whose grid to use), got "
                f"{type(like).__name__}"
            )
        if isinstance(pred, pd.Series):  # by sample id, whatever the Series' order
            missing = ~coords.index.isin(pred.index)
            if missing.any() or not pred.index.is_unique:
                raise ValueError(
                    "pred is a Series whose index is not the samples' ids of coords (each "
                    f"once): {int(missing.sum())} of {len(coords)} ids are missing from it"
                )
            pred = pred.reindex(coords.index)
        values = np.asarray(pred)
        if values.ndim != 1 or len(values) != len(coords):
            raise ValueError(
                f"pred must hold one value per row of coords ({len(coords)}), "
                f"got shape {values.shape}"
            )
        leads = {d: self.layout_.window.lead(d) for d in self.dims_}
        grid = MapLayout.of_frame(self.dims_, coords, like, leads)
        out = grid.empty(values.dtype)
        out[grid.positions(coords)] = values
        return xr.DataArray(
            out, dims=self.dims_, coords=grid.coords, name=name, attrs=self.layout_.target_attrs
        )

    def _table(self, X) -> Table:
        return load_table(self.get_layout(), X, runtime=self._runtime())

    def _pandas_output(self) -> bool:
        """Whether ``set_output(transform="pandas")`` (or the global config) asks for
        DataFrames."""
        local = getattr(self, "_sklearn_output_config", {}).get("transform", "default")
        chosen = local if local != "default" else sklearn.get_config()["transform_output"]
        return chosen == "pandas"

    def _output(self, rows: Tabular) -> Tabular:
        if not self._pandas_output():
            return rows
        return rows.to_pandas(list(self.feature_names_out_), self.layout_.target)


def _weights_of(frame: pd.DataFrame, weight: object) -> pd.Series:
    """The weights of one block of a dask coordinate frame (a dask task)."""
    return pd.Series(sample_weight(weight, frame), index=frame.index, name="weight")


def _per_feature(values: object, names: list) -> np.ndarray:
    """``values`` as an array whose last axis is the features."""
    for attr in ("feature_importances_", "coef_", "importances_mean"):
        if hasattr(values, attr):
            values = getattr(values, attr)
            break
    else:
        kind = type(values).__name__
        if hasattr(values, "get_score"):  # an xgboost Booster: which importance is a choice
            raise TypeError(
                "values is an xgboost Booster, which has several importances: pass one "
                "of them, e.g. booster.get_score(importance_type='total_gain')"
            )
        if hasattr(values, "steps") or hasattr(values, "fit"):
            raise TypeError(
                f"values is a {kind} with no feature_importances_ or coef_ of its own "
                "(a Pipeline: pass its last step, pipeline[-1], if the steps before it "
                "keep the features one to one, as a scaler does)"
            )
    if isinstance(values, dict):
        unknown = [k for k in values if k not in names]
        if unknown:
            raise ValueError(f"values names features the tabularizer does not have: {unknown[:3]}")
        return np.array([float(values.get(n, 0.0)) for n in names])
    array = np.asarray(values, dtype=np.float64)
    if array.ndim not in (1, 2) or array.shape[-1] != len(names):
        raise ValueError(
            f"values must hold one value per feature ({len(names)}), or rows of them, "
            f"got shape {array.shape}"
        )
    return array
