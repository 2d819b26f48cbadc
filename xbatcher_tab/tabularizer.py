"""``WindowTabularizer``: sliding windows of gridded data as a scikit-learn table."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import ClassVar

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._core.checks import check_bool, check_n_jobs
from ._core.data import as_dataset
from ._core.deprecation import keyword_only
from ._core.params import Boolean, Checked, Jobs, Options, Rule, validate
from ._core.window import Target
from ._engine.runtime import Runtime
from ._fit.fitting import learn_values, same_layout
from ._fit.layout import Layout, learn_layout
from ._fit.outliers import ACTIONS
from ._fit.selection import DROPNA, check_dropna
from ._table.outputs import TableOutputs
from ._table.table import Tabular as Tabular  # importable here as before

# the parameters after input_dims in their old positional order (keyword-only now)
POSITIONAL_BEFORE = [
    "input_overlap",
    "variables",
    "target",
    "dropna",
    "dtype",
    "center",
    "scale",
    "stats",
    "coord_features",
    "where",
    "boundary",
    "weight",
    "n_jobs",
    "center_reference",
    "outliers",
    "outlier_action",
]
FITTED_VALUES = ("moments_", "outlier_stats_", "outliers_")  # learnt from values, by piece

__all__ = ["WindowTabularizer"]


class GridInputMixin:
    """scikit-learn tags of an estimator that takes gridded xarray data, not a 2-D
    array, may see NaN, and finds its labels in the data."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = True
        tags.target_tags.required = False
        return tags


class WindowTabularizer(GridInputMixin, TableOutputs, TransformerMixin, BaseEstimator):
    """Cut every sliding window of gridded data into one row of features.

    The data is a Dataset or a DataArray (its only variable, named after it, or
    ``"values"`` when it has no name). Dims named in ``input_dims`` are windowed; every
    other dim of the data is a sample dim (each index its own sample). The layout
    learnt by ``fit`` is the contract for
    every later table, whatever order a store lists its variables or dims in:

    * features: the variables in order (default: every data variable, sorted by name),
      each its window's cells in C order over ``input_dims``;
    * samples: C order over the dims of the variable with the most dims (the first
      such among the features, then the target), then new dims of the other variables
      (dims no feature or target has, such as a CF ``bnds``, are not sample dims);
    * which windows are samples: where the data holds the target variable, the windows
      whose label lies inside the data; where it does not (only the feature variables
      are needed), every window whose feature cells lie inside the data, including
      those whose label lies past the data's end: forecasts, whose anchors' coordinate
      labels are extrapolated along the lead dim by the coordinate's regular step.

    Parameters
    ----------
    input_dims : dict
        Window size per dim; its order is the feature order, e.g.
        ``{"lat": 9, "lon": 9, "time": 9}``.
    input_overlap : dict, optional
        Overlap per input dim; the stride is ``size - overlap`` (default: no overlap).
    variables : list of str, optional
        Feature variables, in order (default: every numeric data variable that is a
        field, sorted by name: CF bounds such as ``time_bnds`` are left out). A
        variable lacking some window dims contributes the cells of the dims it has; one
        lacking a sample dim is repeated along it.
    target : Target or str, optional
        The label; a variable name means ``Target(name)``. Along ``target.lead`` dims
        the anchor is the label cell ``start + size - 1 + lead``; elsewhere it is the
        window's center ``start + size // 2``.
    dropna : bool or "target", default False
        Drop samples with NaN in any feature or in the label (``"target"``: in the
        label only).
    dtype : str or numpy dtype, default "float32"
        dtype of X (y keeps the target variable's dtype). An integer dtype takes data
        whose values it holds exactly (no NaN, no fraction, within its range), float16
        values up to 65504: anything else is an error, not a silent change.
    center : "anchor", "mean", dict or None
        Subtract a reference from each variable's window cells: the anchor cell
        (``"anchor"``) or the window's mean (``"mean"``); the reference is kept as a
        feature of its own (``var@anchor``, ``var@mean``) unless
        ``center_reference=False``. A dict gives it per variable.
        (Not xarray's ``rolling(center=True)``, which says where the label sits: here
        the anchor is always the window's center, or the label cell along lead dims.)
    scale, stats, coord_features, where
        Preprocessing inside the window: see the preprocessing guide.
    center_reference : bool, default True
        Whether a centered variable's reference (``var@anchor``, ``var@mean``) is a
        feature: leave it out where the absolute level should not matter.
    outliers, outlier_action
        Rules ``{variable or "*": ("range", lo, hi) | ("zscore", k) | ("quantile",
        q_lo, q_hi)}`` and what an outlier cell becomes: ``"nan"``, ``"clip"`` (to the
        bound) or ``"drop"`` (its samples): see the preprocessing guide.
    boundary : dict, optional
        How windows meet the data's edges, per windowed dim: ``"periodic"`` (they wrap
        around, e.g. longitude on a global grid: cell -1 is the last cell) or ``"pad"``
        (they may hang over the edge; the cells outside are NaN). Either way every
        cell along that dim anchors a sample (at the stride); along a lead dim only
        ``"pad"``, and only before the data (no label is invented). Default: windows
        must fit inside the data.
    weight : "coslat" or DataArray, optional
        A weight per sample, that of its anchor: ``"coslat"`` (the cosine of the
        latitude coordinate, found by CF ``standard_name``/``units`` or the name lat or
        latitude) or a DataArray over some of the sample dims. Read it next to any rows
        with :meth:`sample_weight`; ``xt.fit_batches``, ``xt.WindowDataIter`` and
        ``xt.WindowModel`` train with it.
    n_jobs : int, optional
        Threads that gather rows (``tabularize``, ``transform``, batches,
        ``xt.predict``), with scikit-learn's meaning: None is 1, -1 every core. The rows
        are the same whatever the number; gathers smaller than a few MB stay on one
        thread. ``to_dask`` blocks use one thread each (dask runs the blocks in
        parallel, within each worker's own threads).

    Attributes
    ----------
    layout_ : Layout
        Variables, dims, window and label learnt by ``fit``.
    variables_ : list
        Feature variables.
    skipped_variables_ : dict
        Data variables left out of the default features, with the reason: CF bounds
        (``time_bnds``, ...) and variables that are not numeric. Empty when
        ``variables`` is given.
    dims_ : tuple
        The data's dims, in the order samples are enumerated (outermost first).
    n_features_out_ : int
        Number of features.
    outliers_ : dict
        Per variable with an outlier rule: its bounds (``lo``, ``hi``) and the cells of
        the fitted data outside them (``flagged``, ``cells``, ``fraction``); ``exact``
        is False only after ``partial_fit`` pieces whose final bounds lie beyond the
        10,000 smallest or largest cells kept (then each piece was counted against the
        bounds known when it came).
    moments_ : dict
        With ``scale``: each feature variable's running count, mean and squared
        deviations over the fitted pieces (merged exactly by ``partial_fit``).
    outlier_stats_ : dict
        With ``outliers``: what each rule learns from the values (moments for
        ``"zscore"``, a quantile sketch for ``"quantile"``; over ``partial_fit``, for
        both, the 10,000 smallest and largest cells, to count outliers and scale
        exactly under bounds that move), merged piece by piece.
    feature_names_out_ : ndarray of str
        ``var(dim±offset;...)`` per feature, offsets from the anchor.

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
    ['tasmax(lat-1;lon-1;time-2)', 'tasmax(lat-1;lon-1;time-1)']
    >>> list(coords.columns)
    ['time', 'lat', 'lon']
    """

    # each parameter's rule (see xbatcher_tab._core.params); those checked against the
    # data are Checked, by the function named
    _parameter_rules: ClassVar[dict[str, Rule]] = {
        "input_dims": Checked("make_window_spec, against the data's dims and sizes"),
        "input_overlap": Checked("make_window_spec, against input_dims"),
        "variables": Checked("check_variables, against the data's variables"),
        "target": Checked("check_target, against the data's variables"),
        "dropna": Options(*DROPNA),
        "dtype": Checked("check_dtype"),
        "center": Checked("check_center, against the variables"),
        "scale": Boolean(),
        "stats": Checked("check_stats"),
        "coord_features": Checked("check_coord_features, against the data's dims"),
        "where": Checked("check_where"),
        "boundary": Checked("check_boundary, against input_dims and the lead"),
        "weight": Checked("check_weight, against the data's coordinates"),
        "n_jobs": Jobs(),
        "center_reference": Boolean(),
        "outliers": Checked("check_outliers, against the variables"),
        "outlier_action": Options(*ACTIONS),
    }

    @keyword_only(2, POSITIONAL_BEFORE)
    def __init__(
        self,
        input_dims: Mapping[Hashable, int],
        *,
        input_overlap: Mapping[Hashable, int] | None = None,
        variables: Sequence[Hashable] | None = None,
        target: Target | str | None = None,
        dropna: bool | str = False,
        dtype: str = "float32",
        center: str | Mapping[Hashable, str | None] | None = None,
        scale: bool = False,
        stats: Sequence[str] = (),
        coord_features: Sequence[str] | Mapping[str, str] | None = None,
        where: xr.DataArray | Callable | None = None,
        boundary: Mapping[Hashable, str] | None = None,
        weight: str | xr.DataArray | None = None,
        n_jobs: int | None = None,
        center_reference: bool = True,
        outliers: Mapping[Hashable, tuple] | None = None,
        outlier_action: str = "nan",
    ) -> None:
        self.input_dims = input_dims
        self.input_overlap = input_overlap
        self.variables = variables
        self.target = target
        self.dropna = dropna
        self.dtype = dtype
        self.center = center
        self.scale = scale
        self.stats = stats
        self.coord_features = coord_features
        self.where = where
        self.boundary = boundary
        self.weight = weight
        self.n_jobs = n_jobs
        self.center_reference = center_reference
        self.outliers = outliers
        self.outlier_action = outlier_action

    # -- fitting -----------------------------------------------------------------------

    def fit(self, X: xr.Dataset | xr.DataArray, y: object = None) -> WindowTabularizer:
        """Learn the layout (variables, their dims, window, label, dtype) from ``X``;
        with ``scale`` each feature variable's mean and standard deviation over its
        grid cells, and with ``outliers`` each rule's bounds (and the cells they flag,
        ``outliers_``).

        ``y`` is ignored; it is accepted for Pipeline compatibility.
        """
        for attr in ("layout_", *FITTED_VALUES):
            if hasattr(self, attr):
                delattr(self, attr)
        return self._learn(X, pieces=False)

    def partial_fit(self, X: xr.Dataset | xr.DataArray, y: object = None) -> WindowTabularizer:
        """Learn from one more piece of the data (e.g. a year of a store).

        The first piece fixes the layout; later pieces must give the same one. With
        ``scale``, the statistics accumulate over the pieces exactly: ``partial_fit``
        over pieces equals ``fit`` on their union (as ``StandardScaler.partial_fit``).

        Examples
        --------
        >>> import xbatcher_tab as xt
        >>> ds = xt.datasets.tasmax(time=8, lat=4, lon=5)
        >>> tab = xt.WindowTabularizer(input_dims={"time": 2}, scale=True)
        >>> for piece in (ds.isel(time=slice(0, 3)), ds.isel(time=slice(3, None))):
        ...     _ = tab.partial_fit(piece)
        >>> mean, std = tab.layout_.scaling["tasmax"]
        >>> round(mean, 3) == round(float(ds.tasmax.mean()), 3)
        True
        """
        return self._learn(X, pieces=True)

    def _learn(self, X: xr.Dataset | xr.DataArray, pieces: bool) -> WindowTabularizer:
        """Learn from one more piece; ``pieces``: more may come (``partial_fit``)."""
        ds = as_dataset(X)
        layout = self.layout_of(ds)
        first = not hasattr(self, "layout_")
        if not first:
            same_layout(layout, self.layout_)
        before = {} if first else {k: v for k, v in vars(self).items() if k in FITTED_VALUES}
        scale = check_bool("scale", self.scale)
        layout, fitted = learn_values(ds, layout, scale, self.outliers, before, pieces)
        for name, value in fitted.items():
            setattr(self, name, value)
        self.layout_: Layout = layout
        self.variables_ = list(layout.variables)
        self.skipped_variables_ = dict(layout.skipped)
        self.dims_ = layout.dims
        self.feature_names_out_ = np.asarray(layout.feature_names(), dtype=object)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def layout_of(self, X: xr.Dataset | xr.DataArray) -> Layout:
        """The layout these parameters give on ``X``, checked against it, without
        fitting (no scaling statistics): what ``fit`` would learn. The one place the
        parameters become a layout, so splitters that need the window of an unfitted
        tabularizer see the same window ``fit`` would."""
        params = self.get_params(deep=False)
        validate(type(self).__name__, self._parameter_rules, params)
        values_only = ("scale", "n_jobs")  # learnt from values, or not part of the layout
        return learn_layout(
            as_dataset(X), **{k: v for k, v in params.items() if k not in values_only}
        )

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the features: ``var(dim±offset;...)``, offsets from the anchor.

        The names are unique and valid for xgboost, LightGBM and Parquet (no ``[``,
        ``]``, ``<``, ``,``, ``:``, ``"``, ``{`` or ``}``).
        """
        check_is_fitted(self, "layout_")
        return self.feature_names_out_.copy()

    # -- the layout and the table ------------------------------------------------------

    def get_layout(self) -> Layout:
        """The layout every table of this tabularizer follows: what ``fit`` learnt
        (``layout_``), with the current ``dropna`` (which may be set after fit)."""
        check_is_fitted(self, "layout_")
        return dataclasses.replace(self.layout_, dropna=check_dropna(self.dropna))

    def _runtime(self) -> Runtime:
        """How this tabularizer's rows are gathered now: its ``n_jobs`` threads, and the
        copy budget and engine options (see :class:`~xbatcher_tab.set_options`)."""
        return Runtime.current(check_n_jobs(self.n_jobs))

    def transform(self, X: xr.Dataset | xr.DataArray) -> np.ndarray:
        """The feature table, ``(n_samples, n_features)``.

        With ``set_output(transform="pandas")``, a DataFrame whose columns are the
        feature names and whose index is the samples' ids (as ``sample_coords``).
        """
        table = self._table(X)
        ids = table.valid_ids()
        if not self._pandas_output():
            return table.X(ids)
        index, columns = pd.Index(ids, name="sample"), list(self.feature_names_out_)
        return pd.DataFrame(table.X(ids), index=index, columns=columns, copy=False)


def fitted(tab: object, data: object, caller: str, target: bool = False) -> WindowTabularizer:
    """``tab``, fitted on ``data`` if it is not fitted yet, after checking that it is a
    ``WindowTabularizer`` (with a target, if ``target``: what every trainer needs).
    The one place where the package's functions take a tabularizer."""
    if not isinstance(tab, WindowTabularizer):
        raise TypeError(
            f"{caller} takes a WindowTabularizer as its tabularizer, got {type(tab).__name__}"
        )
    if not hasattr(tab, "layout_"):
        tab.fit(data)
    if target and tab.layout_.target is None:
        raise ValueError(f"{caller} needs labels: give the tabularizer a target=Target(...)")
    return tab


def check_model_first(model: object, tab: object, caller: str) -> None:
    """The grammar of ``caller(model, tab, data)``: a tabularizer given as the model is
    the two swapped, said so."""
    if isinstance(model, WindowTabularizer):
        raise TypeError(
            f"the model is a WindowTabularizer: {caller} takes (model, tab, data), the "
            f"model first, got ({type(model).__name__}, {type(tab).__name__}, ...)"
        )


def fitted_with_target(tab: object, data: object, caller: str) -> WindowTabularizer:
    """:func:`fitted` with a target."""
    return fitted(tab, data, caller, target=True)
